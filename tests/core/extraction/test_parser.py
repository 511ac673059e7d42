"""Offline CV parser: contacts, name, sections, jobs in many layouts, education, skills, qualifications."""

import random
from datetime import date

import pytest

from core.extraction.normalise import fold, normalise_name
from core.extraction.parser import parse_cv
from tests.cvgen.model import CVProfile
from tests.cvgen.profile import make_profile

TODAY = date(2025, 3, 15)


def render_plain(p: CVProfile, style: int) -> str:
    """Plain text of a profile in one of many styles (job headers in five shapes, contacts top or bottom)."""
    rng = random.Random(style)
    name = p.full_name.upper() if style % 3 == 0 else p.full_name
    labelled = style % 2 == 1
    place = ", ".join(x for x in [p.address_line, p.location] if x) + (f" {p.postcode}" if p.postcode else "")
    contacts = [("Email: " if labelled else "") + p.email] if p.email else []
    contacts += [("Mobile: " if labelled else "") + p.phone, ("Address: " if labelled else "") + place]
    head = [name] + ([" | ".join(p.job_titles)] if style % 4 == 1 else [])
    head += contacts if labelled else [" | ".join(contacts)]
    out = [] if style % 5 == 4 else head
    out += [
        "",
        rng.choice(["Personal Profile", "PROFILE", "Professional Summary", "About Me"]),
        p.profile_text,
        "",
    ]
    out.append(rng.choice(["Employment History", "WORK EXPERIENCE", "Career History", "Experience"]))
    for job in p.jobs:
        shape = (style + len(job.role)) % 5
        where = f", {job.location}" if job.location else ""
        out += {
            0: [f"{job.role}, {job.employer}{where}    {job.date_text}"],
            1: [job.role, job.employer + where, job.date_text],
            2: [job.date_text, f"{job.role} at {job.employer}"],
            3: [f"{job.employer} - {job.role} ({job.date_text})"],
            4: [f"{job.date_text}\t{job.role}\t{job.employer}"],
        }[shape]
        out += [f"• {r}" for r in job.responsibilities] + [""]
    out.append(rng.choice(["Education", "EDUCATION", "Academic Background"]))
    for e in p.education:
        out += (
            [f"{e.qualification}, {e.institution}, {e.date_text}"]
            if labelled
            else [e.qualification, e.institution, e.date_text]
        )
    out += ["", rng.choice(["Qualifications", "Training & Certificates", "Professional Qualifications"])]
    out += [f"- {q}" for q in p.qualifications]
    out += ["", rng.choice(["Key Skills", "Skills", "SKILLS"])]
    out += [", ".join(p.skills)] if labelled else [f"• {s}" for s in p.skills]
    if p.interests:
        out += ["", "Interests", p.interests]
    out += ["", "References", "References available on request."]
    return "\n".join(out + (head if style % 5 == 4 else []))


def jobs_of(cv):
    return {(fold(j.role), fold(j.employer), j.start, j.end) for j in cv.jobs}


# ------------------------------------------------------------------ contacts and name


def test_contacts_from_a_labelled_block():
    cv = parse_cv(
        "Curriculum Vitae\nNAME: Siobhán O'Sullivan\nEmail: Siobhan.OSullivan@Example.ORG\n"
        "Tel: 0113 496 0123   Mobile: +44 (0)7700 900123\nAddress: 4 Mill Lane, Headingley, Leeds, LS6 2AB\n",
        today=TODAY,
    )
    assert cv.full_name == "Siobhán O'Sullivan" and cv.given_name == "Siobhán" and cv.surname == "O'Sullivan"
    assert cv.email == "siobhan.osullivan@example.org"
    assert cv.phone == "+447700900123"  # the mobile wins over the landline
    assert (cv.location, cv.postcode) == ("Leeds", "LS6 2AB")
    assert cv.address == "4 Mill Lane, Headingley, Leeds, LS6 2AB"


def test_whatsapp_label_wins_and_international_numbers_are_kept():
    cv = parse_cv(
        "Ngozi Eze\nMobile: 07700 900 456\nWhatsApp: +234 803 123 4567\nngozi@example.org", today=TODAY
    )
    assert cv.phone == "+2348031234567"


def test_all_caps_name_is_title_cased():
    cv = parse_cv("MARY-JANE MCDONALD-O'NEILL\nmj@example.org\nTeaching Assistant", today=TODAY)
    assert cv.full_name == "Mary-Jane McDonald-O'Neill"
    assert normalise_name("SEAN O'BRIEN") == "Sean O'Brien"


def test_name_in_page_header_appended_at_the_end():
    text = "PROFILE\nCaring teacher with a love of reading.\nSKILLS\nPhonics, EYFS\nAmara Okafor\namara.okafor@example.org"
    cv = parse_cv(text, today=TODAY)
    assert cv.full_name == "Amara Okafor" and cv.email == "amara.okafor@example.org"


def test_name_agreeing_with_the_email_beats_other_short_lines():
    text = "Primary School Teacher\nHappy Learner\nKwame Mensah\nkmensah@example.org"
    assert parse_cv(text, today=TODAY).full_name == "Kwame Mensah"


def test_dates_are_not_phone_numbers_and_referees_are_not_the_candidate():
    text = (
        "Zofia Nowak\nzofia.nowak@example.org\nEXPERIENCE\n01-2019 - 03-2021 | Teaching Assistant | Oak Primary School\n"
        "REFERENCES\nMr J Smith, Headteacher, j.smith@oak.sch.uk, 0113 496 0999"
    )
    cv = parse_cv(text, today=TODAY)
    assert cv.phone is None and cv.email == "zofia.nowak@example.org"


def test_missing_contacts_stay_empty():
    cv = parse_cv("Some text without any contact details at all", today=TODAY)
    assert (cv.email, cv.phone, cv.postcode, cv.full_name) == (None, None, None, None)
    assert parse_cv("", today=TODAY).jobs == []


# ------------------------------------------------------------------ jobs


@pytest.mark.parametrize(
    "block",
    [
        "Class Teacher, Oakfield Primary School    Sept 2019 - Present",
        "Class Teacher\nOakfield Primary School\nSept 2019 - Present",
        "Sept 2019 - Present\nClass Teacher at Oakfield Primary School",
        "Oakfield Primary School - Class Teacher (Sept 2019 - Present)",
        "Sept 2019 - Present | Class Teacher | Oakfield Primary School",
        "Sept 2019 - Present\tOakfield Primary School\tClass Teacher",
        "Oakfield Primary School, Leeds\nClass Teacher\nSeptember 2019 – Current",
    ],
)
def test_job_header_shapes(block):
    cv = parse_cv(f"Employment History\n{block}\n• Planned lessons for Year 4\n• Led phonics", today=TODAY)
    assert jobs_of(cv) == {("class teacher", "oakfield primary school", "2019-09", "present")}
    assert cv.jobs[0].responsibilities == ["Planned lessons for Year 4", "Led phonics"]


def test_several_jobs_without_bullets_split_on_dates_and_sort_newest_first():
    text = (
        "Work Experience\nTeaching Assistant\nMeadow Infant School\n2016 - 2018\n"
        "HLTA\nRiverside Academy\nJan 2019 - Present\n"
    )
    cv = parse_cv(text, today=TODAY)
    assert [(j.role, j.employer, j.start, j.end) for j in cv.jobs] == [
        ("HLTA", "Riverside Academy", "2019-01", "present"),
        ("Teaching Assistant", "Meadow Infant School", "2016-07", "2018-06"),
    ]


def test_duties_without_bullets_are_not_job_headers():
    text = (
        "Career History\nNursery Practitioner at Little Acorns Nursery\n03/2021 - 08/2023\n"
        "Supported children's early language development\nPlanned activities in line with the EYFS framework\n"
    )
    cv = parse_cv(text, today=TODAY)
    assert len(cv.jobs) == 1
    assert cv.jobs[0].responsibilities == [
        "Supported children's early language development",
        "Planned activities in line with the EYFS framework",
    ]


def test_jobs_found_without_an_employment_heading():
    cv = parse_cv(
        "Ama Owusu\nama@example.org\nCover Supervisor, Hillcrest Academy, 2020-09 to 2022-07", today=TODAY
    )
    assert jobs_of(cv) == {("cover supervisor", "hillcrest academy", "2020-09", "2022-07")}


# ------------------------------------------------------------------ sections


def test_sections_skills_qualifications_education_interests_profile():
    text = (
        "Priya Patel\npriya@example.org\n"
        "Professional Summary\nDedicated primary teacher with 6 years' experience in KS2.\n"
        "Skills & Competencies\nBehaviour management; Phonics (Read Write Inc) | EYFS\n"
        "Education & Qualifications\nBA (Hons) Primary Education with QTS\nUniversity of Leeds\n2012 - 2015\n"
        "• Enhanced DBS (2023)\n• Team Teach\n"
        "Hobbies & Interests\nRunning and baking.\nReferences\nAvailable on request."
    )
    cv = parse_cv(text, today=TODAY)
    assert cv.skills == ["Behaviour management", "Phonics (Read Write Inc)", "EYFS"]
    assert cv.qualifications == ["Enhanced DBS", "Team Teach"]
    assert [(e.qualification, e.institution, e.date_text) for e in cv.education] == [
        ("BA (Hons) Primary Education with QTS", "University of Leeds", "2012 - 2015")
    ]
    assert cv.interests == "Running and baking."
    assert cv.profile_text.startswith("Dedicated primary teacher") and cv.stated_years == 6


def test_lexicon_fallback_without_sections():
    cv = parse_cv(
        "Jo Bloggs\njo@example.org\nI hold QTS and an enhanced DBS, and use Makaton daily.", today=TODAY
    )
    assert cv.qualifications == ["QTS", "DBS", "Makaton"]
    assert "Makaton" in cv.skills


def test_job_titles_from_tagline_or_current_jobs():
    text = "Isla Fraser\nPrimary Teacher | SENCo\nisla@example.org\nExperience\nClass Teacher, Oak Academy, 2019 - Present"
    assert parse_cv(text, today=TODAY).job_titles == ["Primary Teacher", "SENCo"]
    text = "Isla Fraser\nisla@example.org\nExperience\nClass Teacher, Oak Academy, 2019 - Present"
    assert parse_cv(text, today=TODAY).job_titles == ["Class Teacher"]


def test_unknown_town_is_read_from_the_postcode_line():
    cv = parse_cv("Rhys Evans\nrhys@example.org\n12 Station Road, Ossett WF5 8AB", today=TODAY)
    assert (cv.location, cv.postcode) == ("Ossett", "WF5 8AB")


def test_pluggable_town_check():
    text = "Rhys Evans\nrhys@example.org\nBased near Ossett | 07700 900123"
    assert parse_cv(text, today=TODAY).location is None
    assert parse_cv(text, today=TODAY, is_known_town=lambda t: t == "Ossett").location is None
    cv = parse_cv(
        "Rhys Evans\nrhys@example.org\nOssett | 07700 900123",
        today=TODAY,
        is_known_town=lambda t: t == "Ossett",
    )
    assert cv.location == "Ossett"


# ------------------------------------------------------------------ accuracy on generated CVs


def test_accuracy_on_generated_plain_text_cvs():
    """Development seeds in many text shapes: every key field is right on nearly every CV."""
    fields = {"name": 0, "email": 0, "phone": 0, "location": 0, "postcode": 0, "jobs": 0, "skills": 0}
    seeds = range(200, 300)
    for seed in seeds:
        p = make_profile(seed, TODAY)
        cv = parse_cv(render_plain(p, seed), today=TODAY)
        fields["name"] += fold(cv.full_name or "") == fold(p.full_name)
        fields["email"] += (cv.email or "") == p.email.lower()
        fields["phone"] += cv.phone == p.phone_e164
        fields["location"] += fold(cv.location or "") == fold(p.location)
        fields["postcode"] += cv.postcode == p.postcode
        fields["jobs"] += jobs_of(cv) == {(fold(j.role), fold(j.employer), j.start, j.end) for j in p.jobs}
        fields["skills"] += {fold(s) for s in cv.skills} == {fold(s) for s in p.skills}
    rates = {k: v / len(seeds) for k, v in fields.items()}
    assert rates["email"] == 1 and rates["phone"] == 1, rates
    assert min(rates.values()) >= 0.95, rates
