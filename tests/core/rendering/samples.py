"""Realistic, varied CV content for the rendering tests, the benchmark and the docs sample (all generated).

Each CV carries personal data (surname, e-mail, phone, postcode, street) in fields that are never rendered,
as a stored analysis result does, so tests can prove none of it reaches the PDF.
"""

import random
from pathlib import Path
from typing import Any

from core.rendering import Branding

PEOPLE = [
    # (given name, surname, town)
    ("Łucja", "Wiśniewska", "Bradford"),
    ("Siobhán", "Ó Súilleabháin", "Liverpool"),
    ("সুমাইয়া", "Rahman", "Tower Hamlets"),
    ("فاطمة", "Al-Amin", "Birmingham"),
    ("Priya", "Chaudhary", "Leicester"),
    ("Oliver", "Hargreaves", "York"),
    ("Zoë", "Kowalczyk", "Nottingham"),
    ("Chidi", "Okonkwo", "Croydon"),
]
ROLES = [
    "Primary Teacher",
    "Secondary Maths Teacher",
    "Teaching Assistant",
    "SENCo",
    "Cover Supervisor",
    "Early Years Practitioner",
    "Head of Science",
    "Learning Support Assistant",
    "English Teacher",
]
SCHOOLS = [
    "St Mary's Catholic Primary School",
    "Oakwood Academy",
    "Riverside Community College",
    "Hillcrest Infant School",
    "Greenfield Church of England Primary",
    "Kingsmead Secondary School",
    "Northgate Special School",
    "The Priory Learning Trust",
    "Brookside Junior School",
    "Westfield Sixth Form College",
]
DUTIES = [
    "Planned and delivered differentiated lessons aligned with the National Curriculum for mixed classes.",
    "Led daily phonics interventions for small groups, raising the phonics screening pass rate to 94%.",
    "Coordinated EHCP reviews with parents, the local authority and external agencies.",
    "Supported pupils with SEMH needs using restorative approaches and clear routines.",
    "Tracked attainment data termly and adapted planning to close gaps for disadvantaged pupils.",
    "Mentored early career teachers and trainees on placement, observing and giving developmental feedback.",
    "Ran an after-school STEM club and organised the annual science fair.",
    "Prepared Year 11 students for GCSE examinations with targeted revision programmes.",
    "Delivered 1:1 reading support using precision teaching, improving reading ages by a year on average.",
    "Worked with the DSL to follow safeguarding procedures and record concerns on CPOMS.",
    "Managed behaviour positively in line with the school policy, with consistently calm classrooms.",
    "Communicated progress to parents through termly reports, parents' evenings and home-school diaries.",
    "Led the school's reading-for-pleasure strategy, refreshing the library and running book clubs.",
    "Covered lessons across Key Stages 3 and 4, following set work and keeping accurate registers.",
    "Supported the Early Years team with continuous provision, observations and learning journals.",
]
QUALIFICATIONS = [
    "PGCE Primary Education with QTS – University of Leeds",
    "BA (Hons) English Literature, 2:1 – University of York",
    "BSc (Hons) Mathematics – University of Birmingham",
    "Level 3 Diploma in Early Years Education and Care",
    "National Award for SEN Coordination",
    "Level 2 Safeguarding Children and Young People",
    "Paediatric First Aid (12 hours)",
    "Team Teach Positive Handling – Foundation",
]
INTERESTS = [
    "Fell running, choir and volunteering with a local Brownies unit.",
    "Chess, coaching junior football at weekends, and baking.",
    "Photography, travelling in South Asia and reading contemporary fiction.",
    "Calligraphy, community interpreting and wild swimming.",
]


def make_cv(seed: int = 0, jobs: int | None = None, bullets: int | None = None) -> dict[str, Any]:
    """A stored analysis result (``data_extracted`` plus PII-bearing extras) for one generated candidate."""
    rng = random.Random(seed)
    given, surname, town = PEOPLE[seed % len(PEOPLE)]
    job_count = jobs if jobs is not None else rng.randint(2, 5)
    history = []
    end_year = 2025
    for _ in range(job_count):
        start_year = end_year - rng.randint(1, 4)
        history.append(
            {
                "date_range": f"Sep {start_year} – " + ("Present" if not history else f"Jul {end_year}"),
                "role": rng.choice(ROLES),
                "company": f"{rng.choice(SCHOOLS)}, {rng.choice([town, 'Leeds', 'Manchester', 'Sheffield'])}",
                "responsibilities": rng.sample(DUTIES, bullets if bullets is not None else rng.randint(3, 6)),
            }
        )
        end_year = start_year
    roles = rng.sample(ROLES, 2)
    return {
        "name": given,
        "role": roles,
        "location": town,
        "availability": rng.choice(
            ["Immediately", "From September", "Two weeks' notice", "Part-time, Mon–Wed"]
        ),
        "professional_profile": (
            f"{given} is a dedicated {roles[0]} with {2025 - end_year} years' experience across primary and "
            "secondary settings, known for calm classroom management, adaptive teaching and strong "
            "partnerships with families. Experienced in supporting pupils with SEND and in using assessment "
            "data to plan precise next steps.\n\nCommitted to inclusive practice, safeguarding and ongoing "
            "professional development."
        ),
        "employment_history": history,
        "qualifications": rng.sample(QUALIFICATIONS, rng.randint(2, 5)),
        "interests": rng.choice(INTERESTS),
        # Never rendered: outreach text and personal data that a stored result carries alongside.
        "email_subject": f"{given} {surname} – {roles[0]}",
        "email_body": f"Contact {given} {surname} on 07700 900{seed % 1000:03d} or cand{seed}@example.com",
        "personal_info": pii(seed),
    }


def pii(seed: int = 0) -> dict[str, Any]:
    """The personal data of candidate ``seed``: none of it may appear in the PDF."""
    given, surname, town = PEOPLE[seed % len(PEOPLE)]
    return {
        "full_name": f"{given} {surname}",
        "surname": surname,
        "email": f"cand{seed}.{surname.lower().replace(' ', '')}@example.com",
        "whatsapp": f"+44 7700 900{seed % 1000:03d}",
        "street": f"{10 + seed} Acacia Avenue",
        "postcode": "LS6 2AB",
        "location": f"{10 + seed} Acacia Avenue, {town} LS6 2AB",
        "skill": ["Makaton signing", "Boardmaker symbols"],
        "quality_check": "manual review",
        "quality_reasons": ["ungrounded_employment_history"],
    }


# A geometric mark (no text, so it looks the same whatever fonts are installed).
LOGO_SVG = """<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">
<rect width="64" height="64" rx="14" fill="{accent}"/>
<path d="M18 48 V16 L46 48 V16" fill="none" stroke="#ffffff" stroke-width="6" stroke-linejoin="round"/>
</svg>"""


def make_branding(folder: Path | None = None, accent: str = "#1F4E79") -> Branding:
    """An agency branding; with ``folder``, a generated SVG logo is written there and used."""
    logo_path = None
    if folder is not None:
        logo = folder / "agency-logo.svg"
        logo.write_text(LOGO_SVG.format(accent=accent))
        logo_path = str(logo)
    return Branding(
        agency_name="Northern Schools Recruitment",
        logo_path=logo_path,
        accent_colour=accent,
        contact_line="0113 496 0000 · office@agency.example · agency.example",
        footer_text="Northern Schools Recruitment Ltd · Registered in England and Wales",
    )
