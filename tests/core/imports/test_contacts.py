import pytest

from core.imports.contacts import (
    CONTACT_COLUMNS,
    normalise_contact_row,
    normalise_email,
    plan_contacts,
)
from core.imports.spreadsheet import SheetRow, open_spreadsheet
from core.matching.matcher import School, SchoolIndex
from tests.core.imports import workbooks

BD = "Barking and Dagenham"
GOOD = {
    "local_authority": BD,
    "organization_name": "Manor Junior",
    "work_email": "  Head@Manor-J.bardaglea.org.uk ",
    "contact_person": "Ann Smith",
    "job_title": "Headteacher",
    "urn": None,
}
INDEX = SchoolIndex(
    [
        School("m", "101201", "Manor Junior School", BD, "Barking", "Sandringham Road", "IG11 9AG"),
        School(
            "b", "101235", "St Joseph's Catholic Primary School", BD, "Barking", "The Broadway", "IG11 7AR"
        ),
        School(
            "d", "101236", "St Joseph's Catholic Primary School", BD, "Dagenham", "Connor Road", "RM9 5UL"
        ),
        School("v", "101300", "Valence Primary School", BD, "Dagenham", "Bonham Road", "RM8 3AR"),
    ]
)


def row(number=2, uncalculated=(), **changes) -> SheetRow:
    values = GOOD | changes
    return SheetRow(number, values, {k.title(): v for k, v in values.items()}, frozenset(uncalculated))


def codes(problems):
    return [(p.code, p.severity) for p in problems]


def test_clean_row():
    result = normalise_contact_row(row())
    assert result.problems == []
    record = result.record
    assert record.work_email == "head@manor-j.bardaglea.org.uk"
    assert (record.contact_person, record.job_title, record.is_role_mailbox) == (
        "Ann Smith",
        "Headteacher",
        False,
    )
    assert record.query.email == record.work_email


@pytest.mark.parametrize(
    "email",
    [
        "head.manor.org.uk",
        "a@b@c.org",
        "head@localhost",
        "head teacher@manor.org.uk",
        "head@.org.uk",
        "head@manor..uk",
        "head@manor.org.uk; office@manor.org.uk",
        "head@-manor.org.uk",
        "head@manor.123",
    ],
)
def test_invalid_emails(email):
    assert normalise_email(email) is None
    result = normalise_contact_row(row(work_email=email))
    assert result.record is None
    assert codes(result.problems) == [("invalid_email", "error")]
    assert result.problems[0].value == email


@pytest.mark.parametrize(
    "email",
    [
        "o'neil@school.sch.uk",
        "first.last+tag@sub.school.org.uk",
        "HEAD@EXAMPLE.COM",
        "admin@xn--bcher-kva.example",
    ],
)
def test_valid_emails(email):
    assert normalise_email(email) == email.lower()


def test_required_fields():
    result = normalise_contact_row(row(organization_name=None, local_authority=None, work_email=None))
    assert codes(result.problems) == [
        ("missing_organization_name", "error"),
        ("missing_local_authority", "error"),
        ("missing_email", "error"),
    ]


def test_missing_person_uses_the_job_title_and_is_a_role_mailbox():
    result = normalise_contact_row(row(contact_person=None, job_title="Senco"))
    assert codes(result.problems) == [("missing_contact_person", "warning")]
    assert result.record.contact_person == "Senco"
    assert result.record.is_role_mailbox


def test_person_and_title_both_missing_is_an_error():
    result = normalise_contact_row(row(contact_person=None, job_title=None))
    assert codes(result.problems) == [("missing_contact_person", "error")]
    assert result.record is None


def test_role_mailbox_when_person_equals_title_ignoring_case():
    assert normalise_contact_row(row(contact_person="SENCO", job_title="Senco")).record.is_role_mailbox
    assert not normalise_contact_row(row(job_title=None)).record.is_role_mailbox


def test_too_long_values():
    result = normalise_contact_row(row(job_title="x" * 256, work_email="a" * 250 + "@b.co.uk"))
    assert sorted(p.field for p in result.problems) == ["job_title", "work_email"]
    assert {p.code for p in result.problems} == {"value_too_long"}


def test_invalid_urn_is_ignored_with_a_warning():
    result = normalise_contact_row(row(urn="URN-1"))
    assert codes(result.problems) == [("invalid_urn", "warning")]
    assert result.record.urn is None


def test_uncalculated_formula_in_a_required_field():
    result = normalise_contact_row(row(uncalculated={"work_email"}, work_email=None))
    assert codes(result.problems) == [("formula_without_value", "error")]


def test_plan_links_rows_and_rejects_every_other_row_with_a_reason():
    rows = [
        row(2),
        row(3, organization_name="St Joseph's Catholic Primary", work_email="office@stjosephs.org.uk"),
        row(4, organization_name="Nowhere Academy", work_email="x@nowhere.org.uk"),
        row(5, local_authority="Atlantis", work_email="y@atlantis.org.uk"),
        row(6, work_email="not an address"),
        row(7, organization_name="St Joseph's Catholic Primary", work_email="head@stjosephs-dagenham.org.uk"),
    ]
    outcomes = plan_contacts(rows, INDEX)
    assert [o.status for o in outcomes] == [
        "linked",
        "ambiguous",
        "unmatched",
        "unknown_local_authority",
        "invalid",
        "linked",
    ]
    assert [o.organization_id for o in outcomes] == ["m", None, None, None, None, "d"]
    assert outcomes[0].match.method == "T3" and outcomes[5].match.method == "evidence_token"
    assert [o.decisive_problem.code for o in outcomes if o.rejected] == [
        "ambiguous",
        "unmatched",
        "unknown_local_authority",
        "invalid_email",
    ]
    assert outcomes[1].match.candidate_urns == ("101235", "101236")
    assert outcomes[2].decisive_problem.field == "organization_name"
    assert outcomes[3].decisive_problem.value == "Atlantis"
    assert outcomes[4].original["Work_Email"] == "not an address"
    assert outcomes[0].decisive_problem is None


def test_duplicate_email_first_linked_row_wins_and_names_the_school():
    rows = [row(2), row(3, organization_name="Valence Primary"), row(4, organization_name="Nowhere")]
    first, second, third = plan_contacts(rows, INDEX)
    assert first.status == "linked"
    assert second.status == third.status == "duplicate"
    problem = second.problems[-1]
    assert (problem.code, problem.severity) == ("duplicate_email_in_file", "warning")
    assert (
        "row 2" in problem.reason
        and "Manor Junior School, Barking and Dagenham (URN 101201)" in problem.reason
    )
    assert second.decisive_problem == problem


def test_an_unlinked_first_row_does_not_keep_the_address():
    rows = [row(2, organization_name="Nowhere"), row(3)]
    first, second = plan_contacts(rows, INDEX)
    assert (first.status, second.status) == ("unmatched", "linked")


def test_known_links_from_earlier_imports_resolve_ties():
    tie = row(2, organization_name="St Joseph's Catholic Primary", work_email="office@stjosephs.org.uk")
    (outcome,) = plan_contacts([tie], INDEX, {"office@stjosephs.org.uk": "b"})
    assert (outcome.status, outcome.organization_id, outcome.match.method) == (
        "linked",
        "b",
        "evidence_email",
    )


def test_unknown_urn_warns_and_falls_back_to_the_name():
    (outcome,) = plan_contacts([row(2, urn="999999")], INDEX)
    assert outcome.status == "linked"
    assert codes(outcome.problems) == [("unknown_urn", "warning")]
    (by_urn,) = plan_contacts([row(2, urn="101300")], INDEX)
    assert (by_urn.organization_id, by_urn.match.method) == ("v", "urn")


def test_contact_headers_through_a_workbook():
    header = ["Local Authority", "OrganisationName", "Email", "Contact Person", "Job Title", "Extra"]
    data = workbooks.xlsx({"Sheet1": [header, [BD, "Manor Junior", "HEAD@X.ORG.UK ", None, "Senco", "?"]]})
    with open_spreadsheet(data, CONTACT_COLUMNS) as sheet:
        (outcome,) = plan_contacts(sheet.rows(), INDEX)
        assert sheet.ignored_headers == ["Extra"]
    assert outcome.status == "linked"
    assert outcome.record.work_email == "head@x.org.uk"
    assert outcome.record.is_role_mailbox
