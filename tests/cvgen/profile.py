"""Fictional UK education CVs with their ground truth (``make_profile(seed, today, layout)``).

Everything is drawn from one ``random.Random(seed)``, so a seed always gives the same CV. Phone numbers come
from Ofcom's drama ranges (07700 900xxx, 0113 496 0xxx …) or random foreign numbers; names, schools and
addresses are invented. The expected values (normalised phone, job start/end months, total experience) are
computed here from the generated facts with the pipeline.md §7.2 rules, independently of the parser.
"""

import random
import unicodedata
from datetime import date

from tests.cvgen.model import CVProfile, Education, Job

PHOTO_LAYOUTS = {"pdf_two_column", "pdf_sidebar", "pdf_edited", "docx_table", "docx_header", "odt"}

NAMES: dict[str, tuple[list[str], list[str]]] = {
    "english": (
        ["Emily", "Olivia", "James", "Thomas", "Sophie", "Charlotte", "Daniel", "Rebecca", "Hannah", "Oliver",
         "Lucy", "Jack", "Katie", "Gemma", "Matthew", "Anne-Marie", "Mary-Jane", "Zoë", "Chloé"],
        ["Smith", "Taylor", "Brown", "Wilson", "Hughes", "Clarke", "Walker", "Wright", "Robinson", "Thompson",
         "Harrison", "Bennett", "Fletcher", "Ashworth-Clarke", "Smith-Jones", "Pemberton"],
    ),
    "welsh_scottish": (
        ["Rhys", "Cerys", "Dafydd", "Siân", "Gethin", "Ewan", "Isla", "Callum", "Morag", "Fraser"],
        ["Jones", "Evans", "Llewellyn", "Pritchard", "Davies", "MacLeod", "McKenzie", "Stewart", "Robertson"],
    ),
    "irish": (
        ["Siobhán", "Niamh", "Aoife", "Ciarán", "Seán", "Róisín", "Pádraig", "Eoin", "Caoimhe"],
        ["O'Sullivan", "O'Brien", "McCarthy", "Fitzgerald", "Byrne", "Kavanagh", "O'Neill", "Doherty", "Ó Briain"],
    ),
    "polish": (
        ["Agnieszka", "Łukasz", "Małgorzata", "Katarzyna", "Paweł", "Zofia", "Wojciech", "Magdalena"],
        ["Kowalska", "Wiśniewski", "Nowak", "Zieliński", "Wójcik", "Kamińska", "Lewandowski", "Szymańska"],
    ),
    "south_asian": (
        ["Priya", "Aarav", "Harpreet", "Mohammed", "Ayesha", "Fatima", "Rahul", "Sunita", "Imran", "Nusrat"],
        ["Patel", "Sharma", "Iqbal", "Begum", "Chaudhry", "Khan", "Sandhu", "Gill", "Hussain", "Rahman"],
    ),
    "nigerian": (
        ["Oluwaseun", "Chiamaka", "Adaeze", "Emeka", "Folasade", "Tunde", "Ngozi", "Ifeoma"],
        ["Adeyemi", "Okafor", "Okonkwo", "Adebayo", "Eze", "Ogunleye", "Balogun", "Nwosu"],
    ),
    "caribbean": (
        ["Marcia", "Delroy", "Shanice", "Andre", "Keisha", "Winston", "Jermaine", "Tanisha"],
        ["Campbell", "Richards", "Francis", "Gordon", "Bailey", "Grant", "Samuels", "Henry"],
    ),
    "ghanaian_somali": (
        ["Kwame", "Akosua", "Kofi", "Ama", "Hodan", "Abdi", "Fadumo", "Ayaan"],
        ["Mensah", "Owusu", "Boateng", "Asante", "Warsame", "Farah", "Hassan", "Abdullahi"],
    ),
    "european_other": (
        ["Ioana", "Andrei", "Elena", "João", "Inês", "José", "María", "Amélie", "Wei", "Mei"],
        ["Popescu", "Ionescu", "Gonçalves", "García", "Fernández", "Rodrigues", "D'Souza", "Dubois", "Zhang",
         "Chen"],
    ),
}  # fmt: skip
MIDDLE_NAMES = ["Rose", "Louise", "James", "Grace", "Elizabeth", "Ann", "Michael", "Olamide", "Maria"]

# town → (county or "", postcode areas with district ranges); most are in the parser's fallback list,
# the last few are smaller places that only a gazetteer or the postcode line can identify.
TOWNS: dict[str, tuple[str, list[tuple[str, int, int]]]] = {
    "Leeds": ("West Yorkshire", [("LS", 1, 29)]),
    "Manchester": ("Greater Manchester", [("M", 1, 40)]),
    "Birmingham": ("West Midlands", [("B", 1, 99)]),
    "Bristol": ("", [("BS", 1, 16)]),
    "Sheffield": ("South Yorkshire", [("S", 1, 36)]),
    "Liverpool": ("Merseyside", [("L", 1, 38)]),
    "Nottingham": ("Nottinghamshire", [("NG", 1, 22)]),
    "Leicester": ("Leicestershire", [("LE", 1, 19)]),
    "Bradford": ("West Yorkshire", [("BD", 1, 22)]),
    "Newcastle upon Tyne": ("Tyne and Wear", [("NE", 1, 15)]),
    "Coventry": ("West Midlands", [("CV", 1, 8)]),
    "Reading": ("Berkshire", [("RG", 1, 10)]),
    "Southampton": ("Hampshire", [("SO", 14, 19)]),
    "Brighton": ("East Sussex", [("BN", 1, 3)]),
    "Luton": ("Bedfordshire", [("LU", 1, 4)]),
    "Milton Keynes": ("Buckinghamshire", [("MK", 1, 19)]),
    "Derby": ("Derbyshire", [("DE", 1, 24)]),
    "Wolverhampton": ("West Midlands", [("WV", 1, 14)]),
    "Huddersfield": ("West Yorkshire", [("HD", 1, 9)]),
    "Bolton": ("Greater Manchester", [("BL", 1, 7)]),
    "Preston": ("Lancashire", [("PR", 1, 5)]),
    "York": ("North Yorkshire", [("YO", 10, 32)]),
    "Norwich": ("Norfolk", [("NR", 1, 14)]),
    "Cambridge": ("Cambridgeshire", [("CB", 1, 5)]),
    "Oxford": ("Oxfordshire", [("OX", 1, 4)]),
    "Exeter": ("Devon", [("EX", 1, 6)]),
    "Cardiff": ("", [("CF", 3, 24)]),
    "Glasgow": ("", [("G", 1, 53)]),
    "Edinburgh": ("", [("EH", 1, 17)]),
    "Belfast": ("", [("BT", 1, 17)]),
    "London": ("", [("E", 1, 18), ("N", 1, 22), ("SE", 1, 28), ("SW", 1, 20), ("NW", 1, 11), ("W", 1, 14)]),
    "Croydon": ("Surrey", [("CR", 0, 9)]),
    "Ilford": ("Essex", [("IG", 1, 11)]),
    "Slough": ("Berkshire", [("SL", 1, 3)]),
    "Peterborough": ("Cambridgeshire", [("PE", 1, 8)]),
    "Doncaster": ("South Yorkshire", [("DN", 1, 12)]),
    "Sunderland": ("Tyne and Wear", [("SR", 1, 7)]),
    "Oldham": ("Greater Manchester", [("OL", 1, 9)]),
    "Stockport": ("Greater Manchester", [("SK", 1, 8)]),
    "Chelmsford": ("Essex", [("CM", 1, 3)]),
    "Swansea": ("", [("SA", 1, 9)]),
    "Hull": ("East Yorkshire", [("HU", 1, 9)]),
    "Ossett": ("West Yorkshire", [("WF", 5, 5)]),
    "Prestwich": ("Greater Manchester", [("M", 25, 25)]),
    "Hebden Bridge": ("West Yorkshire", [("HX", 7, 7)]),
    "Beeston": ("Nottinghamshire", [("NG", 9, 9)]),
}
SMALL_TOWNS = {"Ossett", "Prestwich", "Hebden Bridge", "Beeston"}
STREETS = ["Acacia", "Station", "Church", "Victoria", "Park", "Mill", "Willow", "Chapel", "Albert", "Kings",
           "Queens", "Elm", "Highfield", "Cedar", "Grange", "Moor", "Beech", "Orchard"]  # fmt: skip
STREET_TYPES = ["Road", "Street", "Avenue", "Lane", "Close", "Drive", "Grove", "Crescent", "Way", "Terrace"]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"

SCHOOL_WORDS = ["Oakfield", "Meadowbank", "Riverside", "Hillcrest", "Greenacres", "Westfield", "Brookside",
                "Elmwood", "Kingsmead", "Ashgrove", "Fernhill", "Highfield", "Moorside", "Parkview", "Springfield",
                "Woodlands", "Millbrook", "Beechwood", "Hawthorn", "Larkspur", "Thornbury", "Castleview",
                "Hollybank", "Lime Tree", "Northgate", "Brambleside"]  # fmt: skip
SAINTS = ["St Mary's", "St Joseph's", "St Peter's", "St Anne's", "St Bede's", "St Patrick's", "St Teresa's",
          "Holy Trinity", "St Augustine's", "Christ Church"]  # fmt: skip

TRACKS: dict[str, dict] = {
    "primary_teacher": {
        "path": [["Teaching Assistant", "Learning Support Assistant"],
                 ["Class Teacher", "Primary Teacher", "Year 4 Teacher", "Early Career Teacher", "KS1 Teacher"],
                 ["Year 6 Teacher", "KS2 Phase Leader", "English Subject Leader", "Assistant Headteacher"]],
        "employers": "primary",
        "quals": ["Qualified Teacher Status (QTS)", "Enhanced DBS on the Update Service", "Paediatric First Aid",
                  "Safeguarding Level 2", "NPQLT", "Team Teach Level 1", "Prevent Duty training"],
        "degrees": ["BA (Hons) Primary Education with QTS", "PGCE Primary", "BSc (Hons) Psychology",
                    "BA (Hons) English Literature"],
    },
    "secondary_teacher": {
        "path": [["Cover Supervisor", "Trainee Teacher"],
                 ["Teacher of Mathematics", "Science Teacher", "English Teacher", "Teacher of History",
                  "Geography Teacher", "Computer Science Teacher"],
                 ["Second in Department", "Head of Year 9", "Head of Science", "Head of English"]],
        "employers": "secondary",
        "quals": ["Qualified Teacher Status (QTS)", "Enhanced DBS", "NPQML", "First Aid at Work",
                  "Safeguarding Level 1", "Mental Health First Aid"],
        "degrees": ["PGCE Secondary Mathematics", "BSc (Hons) Biology", "BA (Hons) History", "MSc Chemistry",
                    "PGCE Secondary English"],
    },
    "teaching_assistant": {
        "path": [["Retail Assistant", "Customer Service Advisor", "Care Assistant", "Nanny"],
                 ["Teaching Assistant", "Learning Support Assistant", "SEN Teaching Assistant",
                  "1:1 Teaching Assistant"],
                 ["Senior Teaching Assistant", "Intervention Teaching Assistant"]],
        "employers": "primary",
        "quals": ["Level 3 Certificate in Supporting Teaching and Learning", "Enhanced DBS",
                  "Level 2 Certificate in Supporting Teaching and Learning in Schools", "Team Teach",
                  "Makaton Level 1", "Paediatric First Aid", "Safeguarding Level 1"],
        "degrees": ["GCSEs (9) including English and Maths", "A Levels: English, Psychology, Sociology",
                    "BA (Hons) Childhood Studies", "Foundation Degree in Education"],
    },
    "hlta": {
        "path": [["Teaching Assistant", "Learning Support Assistant"],
                 ["Higher Level Teaching Assistant", "HLTA", "Senior Teaching Assistant"],
                 ["HLTA and Cover Supervisor", "Higher Level Teaching Assistant"]],
        "employers": "primary",
        "quals": ["HLTA Status", "Level 3 Certificate in Supporting Teaching and Learning", "Enhanced DBS",
                  "Team Teach", "Read Write Inc Phonics training", "Paediatric First Aid"],
        "degrees": ["Foundation Degree in Teaching and Learning Support", "A Levels: English, Biology, Art",
                    "GCSEs (8) including English and Maths"],
    },
    "senco": {
        "path": [["Class Teacher", "Primary Teacher", "Teacher of English"],
                 ["Assistant SENCo", "Inclusion Leader", "SEND Teacher"],
                 ["SENCo", "Special Educational Needs Co-ordinator", "Inclusion Manager"]],
        "employers": "any",
        "quals": ["Qualified Teacher Status (QTS)", "NASENCO", "NPQSL", "Enhanced DBS",
                  "Designated Safeguarding Lead training", "Team Teach Advanced"],
        "degrees": ["PGCE Primary", "BA (Hons) Education Studies", "MA Special and Inclusive Education"],
    },
    "nursery": {
        "path": [["Nursery Assistant", "Apprentice Nursery Practitioner"],
                 ["Nursery Practitioner", "Early Years Practitioner", "Nursery Nurse", "Early Years Educator"],
                 ["Room Leader", "Deputy Nursery Manager", "Early Years Lead"]],
        "employers": "nursery",
        "quals": ["CACHE Level 3 Diploma in Childcare and Education", "Paediatric First Aid", "Enhanced DBS",
                  "Food Hygiene Level 2", "Safeguarding Level 2", "Early Years Educator Level 3"],
        "degrees": ["Level 3 Diploma for the Early Years Workforce", "GCSEs (6) including English and Maths",
                    "BA (Hons) Early Childhood Studies"],
    },
    "cover_supervisor": {
        "path": [["Exam Invigilator", "Sports Coach", "Teaching Assistant"],
                 ["Cover Supervisor", "Cover Supervisor (Supply)"],
                 ["Senior Cover Supervisor", "Cover Manager"]],
        "employers": "secondary",
        "quals": ["Enhanced DBS on the Update Service", "First Aid at Work", "Safeguarding Level 1",
                  "Team Teach", "Prevent Duty training"],
        "degrees": ["BSc (Hons) Sports Science", "BA (Hons) Criminology", "A Levels: PE, Biology, History"],
    },
    "head_of_department": {
        "path": [["Teacher of Mathematics", "Teacher of Science", "Teacher of English"],
                 ["Second in Department", "Key Stage 4 Coordinator"],
                 ["Head of Mathematics", "Head of Science", "Head of English", "Head of Humanities"]],
        "employers": "secondary",
        "quals": ["Qualified Teacher Status (QTS)", "NPQML", "NPQSL", "Enhanced DBS", "NPQLTD"],
        "degrees": ["PGCE Secondary Mathematics", "BSc (Hons) Physics", "MA Education", "BA (Hons) Geography"],
    },
}  # fmt: skip

SKILLS: dict[str, list[str]] = {
    "common": ["Behaviour management", "Safeguarding", "Microsoft Office", "Google Classroom", "Team working",
               "Parent communication", "Pastoral care", "Data tracking"],
    "primary": ["Phonics (Read Write Inc)", "Guided reading", "EYFS", "KS1", "KS2", "White Rose Maths",
                "Lesson planning", "Differentiation", "Assessment for learning", "Little Wandle"],
    "secondary": ["KS3", "KS4", "GCSE exam preparation", "Curriculum design", "Classroom management",
                  "Differentiation", "Mentoring trainee teachers", "Seating plans and routines"],
    "send": ["SEND support", "EHCP reviews", "Autism support", "Makaton", "Zones of Regulation",
             "Precision teaching", "Speech and language interventions", "Team Teach", "PECS"],
    "early_years": ["EYFS", "Tapestry", "Learning journals", "Key person role", "Messy play", "Forest School",
                    "Early language development", "Child-led play"],
}  # fmt: skip
TRACK_SKILLS = {
    "primary_teacher": ["primary", "common", "send"], "secondary_teacher": ["secondary", "common"],
    "teaching_assistant": ["primary", "send", "common"], "hlta": ["primary", "send", "common"],
    "senco": ["send", "common", "primary"], "nursery": ["early_years", "common"],
    "cover_supervisor": ["secondary", "common"], "head_of_department": ["secondary", "common"],
}  # fmt: skip

RESPONSIBILITIES: dict[str, list[str]] = {
    "teacher": ["Planned and delivered engaging lessons for a class of 30 pupils",
                "Tracked pupil progress and used assessment data to plan interventions",
                "Led the school's reading for pleasure initiative",
                "Worked closely with parents and carers through termly meetings",
                "Differentiated learning for pupils with SEND and EAL",
                "Mentored trainee teachers on placement",
                "Managed a teaching assistant and planned their support",
                "Moderated writing assessments across the key stage",
                "Organised educational visits and residential trips"],
    "senior": ["Led a team of six teachers and set departmental priorities",
               "Raised GCSE outcomes through a revised scheme of work",
               "Line managed staff and carried out appraisal reviews",
               "Coordinated EHCP annual reviews with families and external agencies",
               "Wrote and monitored the school SEND policy",
               "Reported to governors on progress and provision"],
    "support": ["Supported pupils with SEND on a 1:1 and small-group basis",
                "Delivered phonics and reading interventions",
                "Prepared resources and classroom displays",
                "Helped with behaviour management and playground duties",
                "Recorded observations and shared progress with the class teacher",
                "Covered classes during PPA time"],
    "early_years": ["Acted as key person for eight children",
                    "Planned activities in line with the EYFS framework",
                    "Recorded observations and next steps on Tapestry",
                    "Supported children's early language development",
                    "Maintained a safe and stimulating learning environment"],
    "other": ["Served customers and handled cash and card payments",
              "Trained new members of staff",
              "Dealt with customer queries by phone and e-mail",
              "Provided personal care to elderly residents"],
}  # fmt: skip
INSTITUTIONS = ["University of Leeds", "Manchester Metropolitan University", "Leeds Trinity University",
                "University of Birmingham", "University of Nottingham", "Sheffield Hallam University",
                "Liverpool John Moores University", "University of the West of England", "UCL Institute of Education",
                "Canterbury Christ Church University", "University of Warwick", "Edge Hill University",
                "University of Lagos", "Jagiellonian University", "University of Delhi", "University College Dublin",
                "Leeds City College", "The Manchester College", "Bradford College", "Oakwood Sixth Form College"]  # fmt: skip

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]  # fmt: skip
SEPARATORS = [" - ", " – ", " to ", " — ", "–", " until "]
NOW_WORDS = ["Present", "present", "Current", "Now", "to date", "Ongoing", "Date"]
PROFILE_OPENERS = ["Enthusiastic and reflective", "Caring and committed", "Dedicated and organised",
                   "Experienced and adaptable", "Motivated and creative", "Calm and patient"]  # fmt: skip
INTERESTS = ["Reading, hiking and volunteering with a local Girlguiding unit.",
             "Running, baking and learning British Sign Language.", "Football coaching and cooking for friends.",
             "Choir singing, gardening and visiting museums with my family.",
             "Swimming, photography and volunteering at a food bank."]  # fmt: skip


def _ascii(text: str) -> str:
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o")
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if ch.isascii() and (ch.isalnum() or ch in "-'")
    )


def _mi(year: int, month: int) -> int:
    return year * 12 + month - 1


def _ym(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def _name(rng: random.Random) -> tuple[str, str, str]:
    given_pool, surname_pool = NAMES[rng.choice(list(NAMES))]
    given, surname = rng.choice(given_pool), rng.choice(surname_pool)
    middle = f" {rng.choice(MIDDLE_NAMES)}" if rng.random() < 0.15 else ""
    return f"{given}{middle} {surname}", given, surname


def _email(rng: random.Random, given: str, surname: str) -> str:
    g, s = (
        _ascii(part).replace("'", "").replace(" ", "").replace("-", "").lower() for part in (given, surname)
    )
    domain = rng.choice(
        ["gmail.com", "outlook.com", "hotmail.co.uk", "yahoo.co.uk", "icloud.com", "btinternet.com"]
    )
    local = rng.choice([f"{g}.{s}", f"{g[0]}{s}{rng.randint(1, 99)}", f"{g}_{s[0]}", f"{s}.{g}", f"{g}{s}",
                        f"miss.{s}", f"teach.with.{g}"])  # fmt: skip
    return f"{local}@{domain}"


def _phone(rng: random.Random, town: str) -> tuple[str, str]:
    """(as written, E.164): UK drama-range mobiles and landlines in many spellings, or a foreign mobile."""
    kind = rng.random()
    if kind < 0.65:
        tail = f"{rng.randint(0, 999):03d}"
        e164 = f"+447700900{tail}"
        written = rng.choice([f"07700 900{tail}", f"07700900{tail}", f"+44 7700 900{tail}",
                              f"+44 (0)7700 900{tail}", f"07700-900-{tail}", f"(07700) 900 {tail}",
                              f"0044 7700 900{tail}", f"+447700900{tail}", f"07700 900 {tail}"])  # fmt: skip
        return written, e164
    if kind < 0.8:
        code, local = rng.choice(
            [("113", "496"), ("161", "496"), ("121", "496"), ("117", "496"), ("20", "7946")]
        )
        tail = f"0{rng.randint(0, 999):03d}"
        return f"0{code} {local} {tail}", f"+44{code}{local}{tail}"
    country, prefix, groups = rng.choice([
        ("48", "5", (3, 3, 3)), ("234", "80", (3, 3, 4)), ("353", "8", (2, 3, 4)), ("91", "9", (5, 5)),
        ("40", "7", (3, 3, 3)), ("233", "2", (2, 3, 4)), ("351", "91", (3, 3, 3)), ("34", "6", (3, 3, 3)),
    ])  # fmt: skip
    digits = prefix + "".join(str(rng.randint(0, 9)) for _ in range(sum(groups) - len(prefix)))
    parts, pos = [], 0
    for size in groups:
        parts.append(digits[pos : pos + size])
        pos += size
    return f"+{country} " + " ".join(parts), f"+{country}{digits}"


def _postcode(rng: random.Random, town: str) -> str:
    area, low, high = rng.choice(TOWNS[town][1])
    return f"{area}{rng.randint(low, high)} {rng.randint(1, 9)}{rng.choice(INWARD_LETTERS)}{rng.choice(INWARD_LETTERS)}"


def _employer(rng: random.Random, kind: str, role: str, town: str) -> str:
    if role in ("Retail Assistant", "Customer Service Advisor"):
        return f"{rng.choice(['Northway', 'Brightside', 'Harbour', 'Summit'])} {rng.choice(['Retail', 'Stores'])} Ltd"
    if role == "Care Assistant":
        return f"{rng.choice(['Willowbrook', 'Meadow View', 'Ashdene'])} Care Home"
    if role == "Nanny":
        return rng.choice(["Private family", "Nannies Direct Ltd", "Little Owls Nanny Agency"])
    if role == "Sports Coach":
        return f"{rng.choice(['Premier', 'Active', 'Elite'])} Sports Coaching Ltd"
    if "Supply" in role:
        return f"{rng.choice(['Tempest', 'Horizon', 'Northern'])} Education Ltd"
    word = rng.choice(SCHOOL_WORDS)
    if kind == "any":
        kind = rng.choice(["primary", "secondary"])
    if kind == "nursery":
        return rng.choice([f"{word} Day Nursery", f"Little Acorns Nursery {town}", f"{word} Pre-School",
                           "Busy Bumbles Nursery", f"{word} Children's Centre"])  # fmt: skip
    if kind == "secondary":
        return rng.choice([f"{word} Academy", f"{word} High School", f"{town} Grammar School",
                           f"{rng.choice(SAINTS)} Catholic High School", f"{word} School",
                           f"The {word} Academy"])  # fmt: skip
    return rng.choice([f"{word} Primary School", f"{rng.choice(SAINTS)} C of E Primary School",
                       f"{word} Primary Academy", f"{word} Infant School", f"{word} Junior School",
                       f"{rng.choice(SAINTS)} Catholic Primary School", f"{word} Learning Trust"])  # fmt: skip


def _month_word(rng: random.Random, month: int, style: str) -> str:
    full = MONTHS[month - 1]
    if style == "full":
        return full
    if month == 9:
        return rng.choice(["Sept", "Sep"])
    return full[:3] + ("." if style == "dot" and month != 5 else "")


def _date_text(rng: random.Random, start: int, end: int | None, now: int) -> tuple[str, int, int | None]:
    """Write a real (start, end) range one of a dozen ways; returns (text, start, end) as the text implies.

    ``end`` None means a current job. Year-only and season forms shift the months per §7.2.
    """
    sy, sm, ey, em = start // 12, start % 12 + 1, (end or now) // 12, (end or now) % 12 + 1
    sep = rng.choice(SEPARATORS)
    now_word = rng.choice(NOW_WORDS)
    forms = [
        "abbr",
        "full",
        "mm/yyyy",
        "yyyy-mm",
        "dot",
        "mm.yyyy",
        "dd/mm/yyyy",
        "season",
        "year",
        "yyyy/mm",
    ]
    if end is not None and sy == ey and sm < em:
        forms.append("same_year")
    form = rng.choice(forms)

    def point(y: int, m: int) -> str:
        if form in ("abbr", "full", "dot", "same_year"):
            return (
                f"{_month_word(rng, m, 'full' if form == 'full' else 'dot' if form == 'dot' else 'abbr')} {y}"
            )
        if form == "mm/yyyy":
            return f"{m:02d}/{y}"
        if form == "mm.yyyy":
            return f"{m:02d}.{y}"
        if form == "yyyy-mm":
            return f"{y}-{m:02d}"
        if form == "yyyy/mm":
            return f"{y}/{m:02d}"
        if form == "dd/mm/yyyy":
            return f"{rng.randint(1, 28):02d}/{m:02d}/{y}"
        return ""

    if form == "season":

        def season(y: int, m: int) -> tuple[str, int, int]:
            if m <= 2:
                return f"Winter {y - 1}", y - 1, 12
            name, month = max(((n, mm) for n, mm in (("Spring", 3), ("Summer", 6), ("Autumn", 9), ("Winter", 12))
                               if mm <= m), key=lambda x: x[1])  # fmt: skip
            return f"{name} {y}", y, month

        s_text, s_y, s_m = season(sy, sm)
        if end is None:
            return f"{s_text}{sep}{now_word}", _mi(s_y, s_m), None
        e_text, e_y, e_m = season(ey, em)
        s, e = _mi(s_y, s_m), _mi(e_y, e_m)
        if e < s:
            return _date_text(rng, start, end, now)
        return f"{s_text}{sep}{e_text}", s, e
    if form == "year":
        if end is None:
            s = _mi(sy, 7)
            return (f"{sy}{sep}{now_word}", s, None) if s <= now else _date_text(rng, start, end, now)
        if sy == ey:
            s, e = _mi(sy, 1), min(_mi(sy, 6), now)
            return (f"{sy}", s, e) if rng.random() < 0.5 else (f"{sy}{sep}{ey}", s, e)
        s, e = _mi(sy, 7), min(_mi(ey, 6), now)
        return (f"{sy}{sep}{ey}", s, e) if s <= e else _date_text(rng, start, end, now)
    if form == "same_year":
        return f"{_month_word(rng, sm, 'abbr')}{sep}{point(ey, em)}", start, end
    if end is None:
        return f"{point(sy, sm)}{sep}{now_word}", start, None
    return f"{point(sy, sm)}{sep}{point(ey, em)}", start, end


def _timeline(rng: random.Random, count: int, now: int, short: bool) -> list[tuple[int, int | None]]:
    """Real (start, end) month pairs, newest first; end None = current. Gaps and overlaps occur."""
    spans: list[tuple[int, int | None]] = []
    cursor = now - rng.choice([0, 0, 0, 1, 3, 8])
    for i in range(count):
        length = rng.randint(1, 4) if short else rng.randint(4, 48)
        current = i == 0 and cursor == now and rng.random() < 0.85
        end = None if current else cursor
        start = (cursor - length + 1) if not current else now - length + 1
        spans.append((start, end))
        if rng.random() < 0.12 and i + 1 < count:
            cursor = start + rng.randint(1, max(1, length - 1))  # next (older) job overlaps this one
        else:
            cursor = start - 1 - rng.choice([0, 0, 0, 1, 2, 5, 9])
    return spans


def _total_months(jobs: list[Job], now: int) -> int:
    months: set[int] = set()
    for job in jobs:
        sy, sm = (int(x) for x in job.start.split("-"))
        end = now if job.end == "present" else _mi(*(int(x) for x in job.end.split("-")))
        months.update(range(_mi(sy, sm), end + 1))
    return len(months)


def make_profile(seed: int, today: date, layout: str = "txt") -> CVProfile:
    """A varied fictional UK education CV and its ground truth for ``layout``."""
    rng = random.Random(seed)
    now = _mi(today.year, today.month)
    full_name, given, surname = _name(rng)
    track_name = rng.choice(list(TRACKS))
    track = TRACKS[track_name]
    town = rng.choice(list(TOWNS))
    has_postcode = town in SMALL_TOWNS or rng.random() < 0.5
    postcode = _postcode(rng, town) if has_postcode else None
    address = (
        f"{rng.randint(1, 220)} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}"
        if postcode and rng.random() < 0.6
        else None
    )
    email = "" if rng.random() < 0.08 else _email(rng, given, surname)
    phone, phone_e164 = _phone(rng, town)

    roll = rng.random()
    short = roll < 0.1
    count = 0 if roll < 0.03 else 1 if short else rng.randint(1, 8)
    jobs: list[Job] = []
    for index, (start, end) in enumerate(_timeline(rng, count, now, short)):
        stage = min(2, (count - 1 - index) * 3 // max(count, 1)) if count > 1 else 1
        role = rng.choice(track["path"][stage])
        employer = _employer(rng, track["employers"], role, town)
        text, start_i, end_i = _date_text(rng, start, end, now)
        while short and (start_i, end_i) != (start, end):  # a short career keeps its exact months
            text, start_i, end_i = _date_text(rng, start, end, now)
        kind = ("other" if employer.endswith(("Ltd", "Home", "family")) and "Education" not in employer
                else "early_years" if track_name == "nursery"
                else "senior" if stage == 2 and track_name in ("senco", "head_of_department", "primary_teacher")
                else "support" if "Assistant" in role or "HLTA" in role or "Cover" in role
                else "teacher")  # fmt: skip
        duties = rng.sample(RESPONSIBILITIES[kind], k=min(len(RESPONSIBILITIES[kind]), rng.randint(2, 5)))
        jobs.append(
            Job(
                role,
                employer,
                _ym(start_i),
                "present" if end_i is None else _ym(end_i),
                text,
                duties,
                location=rng.choice([town, "", ""]),
            )
        )

    def newest(job: Job) -> tuple[str, str]:
        return ("9999-99" if job.end == "present" else job.end), job.start

    jobs.sort(key=newest, reverse=True)
    total = _total_months(jobs, now)

    titles = [jobs[0].role] if jobs else [rng.choice(track["path"][1])]  # current (or target) title
    skill_pool = [s for group in TRACK_SKILLS[track_name] for s in SKILLS[group]]
    skills = list(dict.fromkeys(rng.sample(skill_pool, k=min(len(skill_pool), rng.randint(4, 9)))))
    quals = rng.sample(track["quals"], k=rng.randint(2, min(5, len(track["quals"]))))

    education: list[Education] = []
    first_job = min((int(j.start[:4]) for j in jobs), default=today.year)
    year = min(first_job, today.year - 1) - rng.choice([0, 0, 1, 3])
    for degree in rng.sample(track["degrees"], k=rng.randint(1, 2)):
        length = rng.choice([1, 2, 3])
        institution = rng.choice([i for i in INSTITUTIONS if ("College" in i) == ("Level" in degree or
                                  "Levels" in degree or "GCSE" in degree)] or INSTITUTIONS)  # fmt: skip
        education.append(Education(degree, institution, f"{year - length}{rng.choice(SEPARATORS)}{year}"))
        year -= length + rng.randint(0, 3)

    years = total // 12
    experience_phrase = f"{years} years' experience" if years >= 2 else "experience"
    profile_text = (
        f"{rng.choice(PROFILE_OPENERS)} {titles[0]} with {experience_phrase} supporting children and young people. "
        f"I am passionate about inclusive practice and building strong relationships with pupils, families and colleagues."
    )
    has_photo = layout in PHOTO_LAYOUTS and rng.random() < 0.35
    expected = "manual review" if layout == "scan" or not email else "fail" if total < 6 else "pass"
    return CVProfile(
        full_name=full_name,
        given_name=given,
        surname=surname,
        email=email,
        phone=phone,
        phone_e164=phone_e164,
        location=town,
        postcode=postcode,
        address_line=address,
        job_titles=titles,
        skills=skills,
        qualifications=quals,
        jobs=jobs,
        education=education,
        profile_text=profile_text,
        interests=rng.choice([*INTERESTS, None]),
        total_months=total,
        has_photo=has_photo,
        layout=layout,
        expected_quality=expected,
    )
