"""Offline writer: deterministic, anonymised, plain-text client-facing output; the offline rewrite."""

import re
from datetime import date

import pytest

from core.extraction.offline import analyse_offline
from core.extraction.schema import validate_cv_data
from core.extraction.writer import (
    WriterFacts,
    build_profile,
    email_body,
    email_subject,
    plain_text,
    rewrite_offline,
    tighten_responsibilities,
    tighten_responsibility,
)
from tests.core.extraction.test_parser import render_plain
from tests.cvgen.profile import make_profile

TODAY = date(2025, 3, 15)
FACTS = WriterFacts(
    given_name="Amara",
    roles=["HLTA"],
    jobs=[("HLTA", "Oakfield Primary School", True), ("Teaching Assistant", "Riverside Academy", False)],
    experience_months=78,
    skills=["Phonics", "SEND support", "Makaton", "EYFS"],
    qualifications=["HLTA Status", "Enhanced DBS", "Team Teach"],
    town="Leeds",
    availability="Available from September",
)


def test_template_profile_has_two_to_four_sentences_and_the_facts():
    profile = build_profile(FACTS)
    sentences = re.split(r"(?<=\.)\s+", profile)
    assert 2 <= len(sentences) <= 4
    assert profile.startswith("Amara is an experienced HLTA with 6.5 years' experience")
    assert "Oakfield Primary School" in profile and "Phonics" in profile and "Leeds" in profile


def test_own_summary_is_used_when_long_enough():
    summary = (
        "Caring teaching assistant with a passion for early reading and inclusive practice in busy schools."
    )
    assert build_profile(WriterFacts(given_name="Amara", own_summary=summary)) == summary
    assert build_profile(WriterFacts(given_name="Amara", own_summary="Short.")).startswith("Amara is")


def test_fresher_profile_and_missing_name():
    profile = build_profile(WriterFacts(given_name=None, roles=["Teaching Assistant"]))
    assert profile == "The candidate is a Teaching Assistant at the start of their career in education."


@pytest.mark.parametrize(
    ("duty", "tightened"),
    [
        ("responsible for planning lessons for Year 5.", "Planned lessons for Year 5"),
        ("Helped with behaviour management;", "Supported behaviour management"),
        ("• my duties included marking books", "Marked books"),
        ("PREPARED RESOURCES FOR KS1", "Prepared resources for ks1"),
        ("delivered phonics interventions", "Delivered phonics interventions"),
    ],
)
def test_tighten_responsibility(duty, tightened):
    assert tighten_responsibility(duty) == tightened


def test_tighten_responsibilities_dedupes_and_caps():
    duties = ["Led phonics.", "led phonics", "Responsible for leading phonics"] + [
        f"Duty {i}" for i in range(20)
    ]
    out = tighten_responsibilities(duties)
    assert out[:2] == ["Led phonics", "Duty 0"] and len(out) == 12


def test_email_subject_and_body():
    subject, body = email_subject(FACTS), email_body(FACTS)
    assert subject == "HLTA available in Leeds: Amara, 6.5 years' experience"
    assert body.startswith("I would like to introduce Amara, an HLTA based in Leeds")
    bullets = [line for line in body.splitlines() if line.startswith("- ")]
    assert bullets[0] == "- Current role: HLTA at Oakfield Primary School"
    assert "- Availability: Available from September" in bullets
    assert email_body(FACTS) == body  # deterministic


def test_email_body_stays_within_300_words():
    many = WriterFacts(given_name="Amara", roles=["Teacher"], skills=["word " * 120] * 5, availability="x " * 200,
                       qualifications=["y " * 50])  # fmt: skip
    assert len(email_body(many).split()) <= 300


def test_plain_text_drops_markdown_and_emoji():
    assert plain_text("**Great** teacher 😀 [site](http://x) #1") == "Great teacher  site 1"


def _client_facing(outcome) -> list[str]:
    data = outcome.result
    texts = [data.name, data.location, data.availability, data.professional_profile, data.interests or "",
             data.email_subject, data.email_body, *data.role, *data.qualifications]  # fmt: skip
    for job in data.employment_history:
        texts += job.responsibilities
    return texts


def test_anonymisation_guarantee_across_generated_cvs():
    """No surname, e-mail, phone, postcode or street address in any client-facing field."""
    for seed in range(40):
        profile = make_profile(seed, TODAY)
        outcome = analyse_offline(render_plain(profile, seed), has_photo=False, hints=None, today=TODAY)
        employers = [job.employer for job in profile.jobs] + [e.institution for e in profile.education]
        for text in _client_facing(outcome):
            outside_employers = text
            for employer in employers:
                outside_employers = outside_employers.replace(employer, "")
            for token in profile.surname.split():
                assert not re.search(rf"(?<!\w){re.escape(token)}(?!\w)", outside_employers), (seed, text)
            if profile.email:
                assert profile.email.lower() not in text.lower(), seed
            assert profile.phone_e164[-9:] not in re.sub(r"\D", "", text), seed
            if profile.postcode:
                assert profile.postcode.replace(" ", "") not in text.replace(" ", ""), seed
            if profile.address_line:
                assert profile.address_line not in text, seed
        assert outcome.result.name == profile.given_name
        assert len(outcome.result.email_body.split()) <= 300


def test_analysis_is_deterministic():
    profile = make_profile(7, TODAY)
    text = render_plain(profile, 7)
    first = analyse_offline(text, has_photo=True, hints=None, today=TODAY)
    second = analyse_offline(text, has_photo=True, hints=None, today=TODAY)
    assert first.result == second.result and first.has_photo


def cv_data(**overrides):
    data = {
        "name": "Amara",
        "role": ["HLTA"],
        "location": "Leeds",
        "availability": "",
        "professional_profile": "Amara Okafor is great. Call 07700 900123.",
        "employment_history": [
            {"date_range": "Sept 2019 - Present", "role": "HLTA", "company": "Okafor Primary School",
             "responsibilities": ["responsible for running phonics groups", "Running phonics groups"]},
            {"date_range": "2016 - 2019", "role": "Teaching Assistant", "company": "Riverside Academy",
             "responsibilities": []},
        ],
        "qualifications": ["HLTA Status", "Enhanced DBS"],
        "interests": "Running",
        "email_subject": "old",
        "email_body": "old",
    }  # fmt: skip
    data.update(overrides)
    return validate_cv_data(data)[0]


def test_rewrite_offline_keeps_jobs_and_rebuilds_texts():
    original = cv_data()
    rewritten, warnings = rewrite_offline(original, "Make it punchier", today=TODAY)
    assert warnings == ["instruction_ignored"]
    assert [(j.date_range, j.role, j.company) for j in rewritten.employment_history] == [
        (j.date_range, j.role, j.company) for j in original.employment_history
    ]
    assert rewritten.employment_history[0].responsibilities == [
        "Ran phonics groups",
        "Running phonics groups",
    ]
    assert rewritten.professional_profile.startswith(
        "Amara is an experienced HLTA with 8.6 years' experience"
    )
    assert rewritten.email_subject == "HLTA available in Leeds: Amara, 8.6 years' experience"
    assert "07700" not in rewritten.professional_profile
    assert rewrite_offline(original, None, today=TODAY)[1] == []


def test_rewrite_offline_removes_a_known_surname_but_not_inside_employers():
    from core.extraction.sanitise import CandidateFacts

    facts = CandidateFacts(given_name="Amara", full_name="Amara Okafor", surname="Okafor")
    data = cv_data(availability="Ask Okafor directly")
    rewritten, _ = rewrite_offline(data, None, today=TODAY, facts=facts)
    assert rewritten.availability == "Ask directly"
    assert "Okafor Primary School" in rewritten.email_body


def test_bad_input_to_the_offline_provider_is_a_coded_error():
    from core.extraction.errors import ExtractionError

    with pytest.raises(ExtractionError) as exc:
        analyse_offline(None, has_photo=False, hints=None, today=TODAY)
    assert exc.value.code == "invalid_input"
    empty = analyse_offline(
        "", has_photo=False, hints={"skills": ["Phonics"], "job_role": ["TA"]}, today=TODAY
    )
    assert empty.quality.check == "manual review" and empty.result.name == "Candidate"
    assert empty.result.role == ["TA"] and empty.result.extracted_personal_info.skills == ["Phonics"]
