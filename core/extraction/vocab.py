"""UK education vocabularies for the offline parser: headings, titles, employers, qualifications, skills, towns."""

import re

# Canonical section → heading spellings, compared after lower-casing, "&" → "and" and punctuation removal.
SECTION_HEADINGS: dict[str, tuple[str, ...]] = {
    "profile": (
        "profile", "personal profile", "professional profile", "personal statement", "summary",
        "professional summary", "career summary", "profile summary", "about me", "career objective",
        "objective", "objectives", "introduction", "overview", "career profile", "teaching profile",
    ),
    "employment": (
        "employment", "employment history", "work experience", "experience", "professional experience",
        "career history", "work history", "teaching experience", "relevant experience", "employment record",
        "career", "positions held", "school experience", "work experience and employment",
        "employment and experience", "relevant employment", "professional history", "experience history",
        "teaching and work experience", "previous employment", "roles", "career experience",
    ),
    "education": (
        "education", "education history", "academic qualifications", "academic background",
        "education and training", "education and qualifications", "qualifications and education",
        "academic history", "academic record", "academic profile", "educational background",
    ),
    "qualifications": (
        "qualifications", "professional qualifications", "certifications", "certificates", "training",
        "courses", "professional development", "cpd", "training and certificates", "qualifications and training",
        "training and qualifications", "training and development", "certifications and training",
        "additional training", "relevant training", "accreditations", "checks and training",
        "certificates and training", "training and certifications", "licences and certifications",
        "qualifications and certificates", "training courses", "continuing professional development",
    ),
    "skills": (
        "skills", "key skills", "core skills", "skills and competencies", "competencies", "areas of expertise",
        "key strengths", "strengths", "technical skills", "skills summary", "skills and abilities",
        "core competencies", "expertise", "skills and strengths", "professional skills", "key competencies",
    ),
    "interests": (
        "interests", "hobbies", "hobbies and interests", "interests and hobbies", "personal interests",
        "outside of work", "outside interests", "leisure interests", "activities",
    ),
    "references": ("references", "referees", "reference"),
    "contact": (
        "contact", "contact details", "personal details", "personal information", "details",
        "contact information", "contact me", "get in touch",
    ),
    "other": (
        "languages", "achievements", "volunteering", "voluntary work", "additional information",
        "key achievements", "awards", "memberships", "other information", "driving licence", "publications",
    ),
}  # fmt: skip

HEADING_LOOKUP = {variant: section for section, variants in SECTION_HEADINGS.items() for variant in variants}

# Nouns that end a job title ("Class Teacher", "Nursery Practitioner") — the head noun decides, so
# "Nursery Practitioner" is a role although it contains an employer word.
ROLE_HEAD_NOUNS = {
    "teacher", "assistant", "practitioner", "supervisor", "senco", "sendco", "hlta", "leader", "lead", "manager",
    "coordinator", "co-ordinator", "mentor", "tutor", "officer", "nurse", "educator", "lecturer", "instructor",
    "worker", "headteacher", "head", "principal", "technician", "administrator", "apprentice", "volunteer",
    "advisor", "adviser", "cashier", "nanny", "childminder", "coach", "librarian", "invigilator", "consultant",
    "director", "trainee", "ect", "nqt", "counsellor", "therapist", "receptionist", "clerk", "carer",
    "support", "specialist", "interpreter", "analyst", "engineer", "developer", "executive", "associate",
    "representative", "operative", "chef", "server", "waiter", "waitress", "steward", "helper", "designer",
}  # fmt: skip
ROLE_PHRASES = re.compile(
    r"\b(head of|second in|deputy head|assistant head|teacher of|lecturer in|leader of|lead for|"
    r"teaching assistant|learning support|cover supervisor|supply teacher|early years|"
    r"higher level teaching|special educational needs co-?ordinator|senco|sendco|hlta|ect|nqt|"
    r"class teacher|form tutor|key stage \d lead|phase leader|subject leader)\b",
    re.IGNORECASE,
)

# Words that end (or open) an organisation name.
EMPLOYER_HEAD_NOUNS = {
    "school", "academy", "college", "nursery", "trust", "federation", "ltd", "limited", "plc", "llp", "council",
    "centre", "center", "university", "pre-school", "preschool", "montessori", "kindergarten", "unit", "group",
    "services", "agency", "partnership", "education", "foundation", "charity", "hospital", "nhs", "church",
    "club", "studios", "studio", "consortium", "institute", "authority", "recruitment", "home", "pru",
    "sixth form", "infants", "juniors", "primary", "secondary", "high", "grammar", "care", "company", "cic",
    "inc", "co", "solutions", "associates", "store", "stores", "supermarket", "bank", "hotel", "restaurant",
    "cafe", "café", "library", "trust)", "project", "society", "organisation", "network", "camp",
}  # fmt: skip
EMPLOYER_PHRASES = re.compile(
    r"\b(school|academy|college|nursery|pre-?school|university|trust|federation|ltd|limited|plc|council|"
    r"c of e|ce|rc|catholic|church of england|infant|junior|pupil referral|day care|children'?s centre|"
    r"montessori|kindergarten|local authority|borough|education|recruitment)\b",
    re.IGNORECASE,
)
INSTITUTION_WORDS = re.compile(
    r"\b(university|college|school|academy|institute|polytechnic|sixth form|conservatoire|"
    r"open university|ucl|lse|kcl|soas|goldsmiths|birkbeck)\b",
    re.IGNORECASE,
)

# UK education qualification vocabulary: pattern → canonical label (used when a CV has no
# qualifications section, and to recognise qualification lines among education entries).
QUALIFICATION_TERMS: tuple[tuple[str, str], ...] = (
    (r"\bqualified teacher status\b|\bqts\b", "QTS"),
    (r"\bqtls\b", "QTLS"),
    (r"\bpgce\b|\bpost ?graduate certificate in education\b", "PGCE"),
    (r"\bpgde\b", "PGDE"),
    (r"\bb\.?\s?ed\b", "BEd"),
    (r"\bm\.?\s?ed\b", "MEd"),
    (r"\bnpqh\b", "NPQH"),
    (r"\bnpqsl\b", "NPQSL"),
    (r"\bnpqml\b", "NPQML"),
    (r"\bnpqlt\b", "NPQLT"),
    (r"\bnpqltd\b", "NPQLTD"),
    (r"\bnpqlbc\b", "NPQLBC"),
    (r"\bnpqbc\b", "NPQBC"),
    (r"\bnpqeyl\b", "NPQEYL"),
    (r"\bnpqsen(?:co)?\b", "NPQ for SENCOs"),
    (r"\bnasenco\b|\bnational award for sen", "NASENCO"),
    (r"\bhlta\b|\bhigher level teaching assistant status\b", "HLTA"),
    (
        r"\blevel [23] (?:certificate|diploma|award)?\s*(?:in )?supporting teaching and learning",
        "Level 2/3 TA",
    ),
    (r"\b(?:enhanced )?dbs\b|\bdisclosure and barring\b", "DBS"),
    (r"\bpaediatric first aid\b", "Paediatric First Aid"),
    (r"\bfirst aid\b", "First Aid"),
    (r"\bteam teach\b", "Team Teach"),
    (r"\bsafeguarding\b|\bdesignated safeguarding lead\b|\bdsl\b", "Safeguarding"),
    (r"\bprevent\b", "Prevent"),
    (r"\bcache\b|\bearly years educator\b|\beyfs\b", "Early Years"),
    (r"\bnvq\b", "NVQ"),
    (r"\bmakaton\b", "Makaton"),
    (r"\btefl\b|\bcelta\b|\btesol\b", "TEFL/CELTA"),
    (r"\bect induction\b|\bnqt induction\b", "ECT induction"),
    (r"\bfood hygiene\b", "Food Hygiene"),
    (r"\bsenco\b", "SENCo"),
)
QUALIFICATION_RE = [(re.compile(p, re.IGNORECASE), label) for p, label in QUALIFICATION_TERMS]
DEGREE_WORDS = re.compile(
    r"\b(ba|bsc|ma|msc|mphil|phd|llb|beng|meng|bed|med|pgce|pgde|degree|diploma|certificate|hnd|hnc|"
    r"foundation degree|a[- ]levels?|gcses?|btec|baccalaureate|highers|masters?|bachelor'?s?|honours|hons|"
    r"o levels?|waec|wassce|matura|nvq|cache|level \d)\b",
    re.IGNORECASE,
)

# Education skills recognised anywhere when a CV has no skills section.
SKILL_TERMS: tuple[str, ...] = (
    "Behaviour management", "Classroom management", "Lesson planning", "Differentiation", "Safeguarding",
    "SEND support", "EHCP", "Phonics", "Read Write Inc", "Guided reading", "Assessment for learning",
    "Makaton", "British Sign Language", "Numicon", "Google Classroom", "Microsoft Office", "Interventions",
    "Autism support", "ADHD support", "Speech and language", "Data tracking", "Curriculum design",
    "Parent communication", "Mentoring", "Pastoral care", "EYFS", "KS1", "KS2", "KS3", "KS4", "KS5",
    "Team Teach", "Restorative practice", "Zones of Regulation", "Precision teaching", "Forest School",
    "Letters and Sounds", "Little Wandle", "White Rose Maths", "Thrive", "ELSA", "Colourful semantics",
    "PECS", "Attention Autism", "Intensive interaction", "Tapestry", "Arbor", "SIMS", "CPOMS",
)  # fmt: skip
SKILL_RE = [
    (re.compile(r"(?<![\w-])" + re.escape(term).replace(r"\ ", r"\s+") + r"(?![\w-])", re.IGNORECASE), term)
    for term in SKILL_TERMS
]

LABELS = {
    "name": ("name", "full name", "candidate name", "candidate"),
    "email": ("email", "e-mail", "email address", "e-mail address", "mail", "e"),
    "phone": ("phone", "telephone", "tel", "mobile", "mob", "mobile phone", "contact number", "phone number",
              "cell", "t", "m", "p", "whatsapp", "whatsapp number", "home", "landline"),
    "address": ("address", "home address", "location", "based in", "current location", "town", "city",
                "residence", "lives in"),
    "postcode": ("postcode", "post code", "postal code"),
    "availability": ("availability", "available", "notice period", "start date"),
    "title": ("target role", "position sought", "desired role", "job title", "current role", "role sought",
              "applying for", "title", "position"),
}  # fmt: skip
LABEL_LOOKUP = {variant: label for label, variants in LABELS.items() for variant in variants}
NAME_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "rev", "sir", "dame"}

COUNTIES = {
    "greater london", "greater manchester", "west yorkshire", "south yorkshire", "north yorkshire",
    "east yorkshire", "west midlands", "merseyside", "tyne and wear", "lancashire", "kent", "essex", "surrey",
    "hertfordshire", "berkshire", "buckinghamshire", "oxfordshire", "hampshire", "devon", "cornwall",
    "somerset", "dorset", "wiltshire", "gloucestershire", "warwickshire", "staffordshire", "derbyshire",
    "nottinghamshire", "leicestershire", "lincolnshire", "norfolk", "suffolk", "cambridgeshire", "cheshire",
    "cumbria", "durham", "county durham", "northumberland", "east sussex", "west sussex", "sussex",
    "bedfordshire", "northamptonshire", "shropshire", "worcestershire", "herefordshire", "rutland",
    "isle of wight", "middlesex", "avon", "cleveland", "england", "scotland", "wales", "northern ireland",
    "united kingdom", "uk", "gb", "great britain", "fife", "lothian", "glamorgan", "gwent", "powys",
}  # fmt: skip

# Fallback when no gazetteer is plugged in: major UK towns and cities, plus London districts often given alone.
FALLBACK_TOWNS = frozenset(
    t.lower()
    for t in (
        "London", "Birmingham", "Manchester", "Leeds", "Liverpool", "Sheffield", "Bristol", "Newcastle upon Tyne",
        "Newcastle", "Nottingham", "Leicester", "Coventry", "Bradford", "Hull", "Kingston upon Hull", "Stoke-on-Trent",
        "Wolverhampton", "Derby", "Southampton", "Portsmouth", "Plymouth", "Reading", "Northampton", "Luton",
        "Milton Keynes", "Brighton", "Bournemouth", "Swindon", "Oxford", "Cambridge", "York", "Norwich",
        "Ipswich", "Exeter", "Gloucester", "Cheltenham", "Bath", "Chester", "Warrington", "Wigan", "Bolton",
        "Stockport", "Oldham", "Rochdale", "Salford", "Bury", "Preston", "Blackburn", "Blackpool", "Burnley",
        "Lancaster", "Huddersfield", "Halifax", "Wakefield", "Doncaster", "Rotherham", "Barnsley", "Middlesbrough",
        "Sunderland", "Gateshead", "Durham", "Darlington", "Hartlepool", "Carlisle", "Lincoln", "Peterborough",
        "Colchester", "Chelmsford", "Southend-on-Sea", "Basildon", "Canterbury", "Maidstone", "Crawley",
        "Guildford", "Woking", "Slough", "Watford", "St Albans", "Stevenage", "Bedford", "Worcester", "Hereford",
        "Telford", "Shrewsbury", "Walsall", "Dudley", "West Bromwich", "Solihull", "Nuneaton", "Rugby",
        "Stafford", "Burton upon Trent", "Mansfield", "Chesterfield", "Loughborough", "Kettering", "Corby",
        "Wellingborough", "Harlow", "Croydon", "Bromley", "Harrow", "Ealing", "Enfield", "Barnet", "Hackney",
        "Islington", "Camden", "Lewisham", "Greenwich", "Southwark", "Lambeth", "Wandsworth", "Brent",
        "Haringey", "Newham", "Tower Hamlets", "Hounslow", "Hillingdon", "Romford", "Ilford", "Walthamstow",
        "Stratford", "Kingston upon Thames", "Richmond", "Sutton", "Wimbledon", "Edinburgh", "Glasgow",
        "Aberdeen", "Dundee", "Inverness", "Stirling", "Perth", "Cardiff", "Swansea", "Newport", "Wrexham",
        "Bangor", "Belfast", "Derry", "Lisburn", "Eastbourne", "Hastings", "Worthing", "Chichester",
        "Winchester", "Basingstoke", "Salisbury", "Taunton", "Torquay", "Truro", "Poole", "Weymouth",
        "High Wycombe", "Aylesbury", "Bracknell", "Wokingham", "Tunbridge Wells", "Folkestone", "Dover",
        "Ashford", "Margate", "Grimsby", "Scunthorpe", "Harrogate", "Scarborough", "Keighley", "Dewsbury",
        "Batley", "Pontefract", "St Helens", "Wirral", "Birkenhead", "Southport", "Crewe", "Macclesfield",
        "Kendal", "Barrow-in-Furness", "Workington", "Hexham", "Morpeth", "Blyth", "South Shields",
        "Stockton-on-Tees", "Redcar", "Tamworth", "Lichfield", "Cannock", "Kidderminster", "Redditch",
        "Bromsgrove", "Leamington Spa", "Warwick", "Stratford-upon-Avon", "Banbury", "Bicester", "Didcot",
        "Abingdon", "Newbury", "Farnborough", "Aldershot", "Andover", "Eastleigh", "Fareham", "Gosport",
        "Havant", "Bognor Regis", "Horsham", "Haywards Heath", "Reigate", "Redhill", "Epsom", "Staines",
        "Hemel Hempstead", "Hatfield", "Welwyn Garden City", "Hitchin", "Letchworth", "Dunstable", "Wembley",
        "Uxbridge", "Twickenham", "Dartford", "Gravesend", "Chatham", "Rochester", "Gillingham", "Sittingbourne",
        "Brentwood", "Grays", "Clacton-on-Sea", "Braintree", "Bury St Edmunds", "Lowestoft", "Great Yarmouth",
        "King's Lynn", "Thetford", "Boston", "Grantham", "Newark", "Worksop", "Retford", "Skegness", "Yeovil",
        "Bridgwater", "Weston-super-Mare", "Barnstaple", "Exmouth", "Paignton", "Newquay", "Falmouth",
        "Penzance", "Accrington", "Chorley", "Leyland", "Ormskirk", "Skelmersdale", "Widnes", "Runcorn",
        "Northwich", "Ellesmere Port", "Altrincham", "Sale", "Ashton-under-Lyne", "Hyde", "Leigh", "Bootle",
        "Kirkby", "Motherwell", "Paisley", "Livingston", "Falkirk", "Kilmarnock", "Ayr", "Dumfries",
        "Kirkcaldy", "Dunfermline", "Merthyr Tydfil", "Bridgend", "Llanelli", "Barry", "Neath", "Caerphilly",
        "Newry", "Armagh", "Ballymena", "Coleraine", "Omagh", "Enniskillen",
    )
)  # fmt: skip


def fallback_is_known_town(name: str) -> bool:
    """Town check used when the caller plugs in no gazetteer."""
    return name.strip().lower() in FALLBACK_TOWNS


def heading_key(line: str) -> str:
    """Normalised form of a possible heading line: lower case, '&' → 'and', punctuation and spaces collapsed."""
    text = line.lower().replace("&", " and ").replace("+", " and ")
    text = re.sub(r"[^a-z0-9 ]+", " ", text)
    return " ".join(text.split())


def qualification_labels(text: str) -> list[str]:
    """Canonical qualification labels mentioned in ``text``."""
    found = [label for pattern, label in QUALIFICATION_RE if pattern.search(text)]
    if "Paediatric First Aid" in found and "First Aid" in found:
        found.remove("First Aid")
    return list(dict.fromkeys(found))
