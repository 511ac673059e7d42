"""Client-facing anonymisation and the outreach PII guard (pipeline.md §7.4, api.md §5.1)."""

from core.extraction.sanitise import CandidateFacts, pii_terms, sanitise_text

FACTS = CandidateFacts(
    given_name="Marcia",
    full_name="Marcia Louise Campbell",
    surname="Louise Campbell",
    email="marcia.campbell@example.org",
    phone="+447700900123",
    postcode="LS6 2AB",
    town="Leeds",
    address="14 Acacia Avenue",
    protected_names=("Campbell Park Academy", "University of Leeds"),
)


def test_contacts_and_urls_are_removed():
    text = (
        "Contact marcia.campbell@example.org or 07700 900 123, +44 (0)113 496 0123; "
        "see linkedin.com/in/marcia-c and https://www.facebook.com/marcia."
    )
    out = sanitise_text(text, FACTS)
    assert "@" not in out and "900" not in out and "496" not in out
    assert "linkedin" not in out and "facebook" not in out


def test_dates_are_not_taken_for_phone_numbers():
    assert sanitise_text("Employed 2015 - 2018 and 01/2019 - 03/2021", FACTS) == (
        "Employed 2015 - 2018 and 01/2019 - 03/2021"
    )


def test_postcode_becomes_the_town_and_street_address_goes():
    assert sanitise_text("Lives at 14 Acacia Avenue, LS6 2AB.", FACTS) == "Lives at, Leeds."
    assert sanitise_text("Based in Leeds LS6 2AB", FACTS) == "Based in Leeds"
    assert "Station Road" not in sanitise_text("Moved to 3 Station Road last year", FACTS)


def test_name_variants_become_the_given_name():
    for text in [
        "Marcia Louise Campbell",
        "Marcia Campbell",
        "Campbell, Marcia",
        "Mrs Campbell",
        "Ms. Marcia Campbell",
    ]:
        assert sanitise_text(f"{text} is a teacher.", FACTS) == "Marcia is a teacher."


def test_stand_alone_surname_removed_but_kept_inside_employer_names():
    out = sanitise_text("Campbell taught at Campbell Park Academy. Campbell's pupils thrived.", FACTS)
    assert out == "taught at Campbell Park Academy. pupils thrived."


def test_surname_match_is_for_capitalised_words_only():
    facts = CandidateFacts(given_name="Amy", full_name="Amy Young", surname="Young")
    assert (
        sanitise_text("Worked with young children. Young is kind.", facts)
        == "Worked with young children. is kind."
    )


def test_no_given_name_means_candidate():
    facts = CandidateFacts(full_name="Okafor", surname="Okafor")
    assert sanitise_text("Okafor led the team.", facts) == "Candidate led the team."
    facts = CandidateFacts(full_name="Chidi Okafor", surname="Okafor")
    assert facts.display_name == "Candidate"
    assert sanitise_text("Chidi Okafor led the team.", facts) == "Candidate led the team."


def test_bullets_and_line_breaks_survive():
    text = "Intro line.\n\n- Qualifications: QTS\n- Key skills: Phonics"
    assert sanitise_text(text, FACTS) == text


def test_pii_terms_finds_each_kind():
    text = "Marcia Campbell (marcia.campbell@EXAMPLE.org, 07700-900-123) from LS62AB"
    assert pii_terms(text, FACTS) == ["marcia.campbell@example.org", "07700-900-123", "LS62AB", "Campbell"]


def test_pii_terms_ignores_employer_names_and_clean_text():
    assert pii_terms("Marcia teaches at Campbell Park Academy in Leeds.", FACTS) == []
    assert pii_terms("Phone +44 7700 900123 please", FACTS) == ["+44 7700 900123"]
