"""Contact import jobs (api.md O13; imports-and-geo.md §3–§4; B1, V3): matching, evidence, reports."""

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import ActivityLog
from organizations.models import Contact, ImportJob
from tests.core.imports import workbooks
from tests.organizations.conftest import make_contact, make_org

pytestmark = pytest.mark.django_db
URL = "/api/organizations/import/contacts/"
HEADER = ["LocalAuthority", "OrganizationName", "WorkEmail", "ContactPersonName", "JobTitle"]


@pytest.fixture
def schools(db):
    return {
        "dorothy_inf": make_org("Dorothy Barley Infants' School", la="Barking and Dagenham", urn="101188"),
        "dorothy_jun": make_org("Dorothy Barley Junior Academy", la="Barking and Dagenham", urn="140687"),
        "joseph_barking": make_org(
            "St Joseph's Catholic Primary School", la="Barking and Dagenham", urn="101235", town="Barking",
            street="The Broadway", postcode="IG11 7AR",
        ),
        "joseph_dagenham": make_org(
            "St Joseph's Catholic Primary School", la="Barking and Dagenham", urn="101236", town="Dagenham",
            street="Connor Road", postcode="RM9 5UL",
        ),
        "mary": make_org("St Mary's C of E Primary School", la="Greenwich", urn="100200"),
        "manor": make_org("Manor Junior School", la="Barking and Dagenham", urn="101192"),
    }  # fmt: skip


@pytest.fixture
def run(operator_client, eager_celery, django_capture_on_commit_callbacks):
    def run_(rows, fmt="xlsx", dry_run=False, header=HEADER):
        data = (
            workbooks.xlsx({"Sheet1": [header, *rows]})
            if fmt == "xlsx"
            else workbooks.csv_bytes([header, *rows])
        )
        with django_capture_on_commit_callbacks(execute=True):
            response = operator_client.post(
                URL,
                {"file": SimpleUploadedFile("contacts.xlsx", data), "dry_run": dry_run},
                format="multipart",
            )
        assert response.status_code == 202, response.json()
        assert response.json()["message"] == "Contact import started."
        job = ImportJob.objects.get(pk=response.json()["task_id"])
        body = operator_client.get(f"/api/organizations/import/status/{job.pk}/").json()
        return job, body

    return run_


def rejects(client, job) -> list[dict]:
    response = client.get(f"/api/organizations/import/status/{job.pk}/rejects/")
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def org_of(email):
    return Contact.objects.select_related("organization").get(work_email=email).organization


@pytest.mark.sqlite
def test_tiers_evidence_and_reports(operator_client, operator, schools, run):
    rows = [
        ["Barking and Dagenham", "Dorothy Barley Infants'", "Head@D-Barley-I.bardaglea.org.uk ", "Ann", "Headteacher"],
        ["Barking and Dagenham", "Dorothy Barley Junior Academy", "head@d-barley-j.bardaglea.org.uk", "Bob", "Head"],
        ["Barking and Dagenham", "St Joseph's Catholic Primary", "headteacher@st-jobarking.bardaglea.org.uk", "Cy", None],
        ["Barking and Dagenham", "St Joseph's Catholic Primary", "office@stjosephs.example.org", "Di", "Office"],
        ["greenwich", "St. Marys CofE Primary", "senco@stmarys.greenwich.sch.uk", "Senco", "Senco"],
        ["Barking and Dagenham", "Manor Junior", "head@manor-j.bardaglea.org.uk", None, "Headteacher"],
        ["Barking and Dagenham", "Madgheadteacherrd Primary", "x@madg.sch.uk", "Ed", "Head"],
        ["Atlantis", "Oak School", "y@oak.sch.uk", "Fay", "Head"],
        ["Barking and Dagenham", "Manor Junior", "not-an-email", "Gus", "Head"],
        ["Barking and Dagenham", "Manor Junior", None, "Hal", "Head"],
        ["Barking and Dagenham", "Dorothy Barley Junior Academy", "HEAD@D-BARLEY-I.BARDAGLEA.ORG.UK", "Ivy", "Head"],
    ]  # fmt: skip
    job, body = run(rows)
    assert body["status"] == "completed"
    summary = body["summary"]
    counts = summary["counts"]
    assert counts == {
        "rows": 11, "created": 5, "updated": 0, "unchanged": 0, "skipped": 3, "unmatched": 2, "ambiguous": 1,
        "errors": 5, "warnings": 2,
    }  # fmt: skip
    assert summary["contacts_created"] == 5 and summary["contacts_skipped"] == 6
    # T3 keeps the infants and the junior academy apart (T4 is never reached)
    assert org_of("head@d-barley-i.bardaglea.org.uk").urn == "101188"
    assert org_of("head@d-barley-j.bardaglea.org.uk").urn == "140687"
    # evidence (c): "barking" in the address picks the Barking school, not the Dagenham one
    joseph = Contact.objects.get(work_email="headteacher@st-jobarking.bardaglea.org.uk")
    assert (joseph.organization.urn, joseph.match_method) == ("101235", "evidence_token")
    senco = Contact.objects.get(work_email="senco@stmarys.greenwich.sch.uk")
    assert senco.organization.urn == "100200" and senco.is_role_mailbox is True
    manor = Contact.objects.get(work_email="head@manor-j.bardaglea.org.uk")
    assert manor.contact_person == "Headteacher" and manor.match_method == "T3"
    assert Contact.objects.count() == 5  # never guessed: the tie without evidence is not linked
    lines = {int(line["row"]): line for line in rejects(operator_client, job)}
    assert list(lines[5]) == [*HEADER, "row", "status", "code", "reason", "candidate_urns"]
    assert (lines[5]["status"], lines[5]["candidate_urns"]) == ("ambiguous", "101235 101236")
    assert lines[8]["status"] == "unmatched" and lines[8]["code"] == "unmatched"
    assert lines[9]["code"] == "unknown_local_authority"
    assert (lines[10]["code"], lines[11]["code"]) == ("invalid_email", "missing_email")
    assert lines[12]["status"] == "duplicate" and "Dorothy Barley Infants' School" in lines[12]["reason"]
    assert set(lines) == {5, 8, 9, 10, 11, 12}  # every unlinked row is in the CSV
    activity = ActivityLog.objects.get(event_type="contact_import_completed")
    assert activity.severity == "warning" and activity.actor == operator
    assert "2 unmatched, 1 ambiguous" in activity.message


def test_reimport_updates_and_known_links_resolve_ties(schools, run):
    contact = make_contact(
        schools["joseph_dagenham"], person="Old Name", email="office@stjosephs.example.org"
    )
    rows = [
        ["Barking and Dagenham", "St Joseph's Catholic Primary", "office@stjosephs.example.org", "New Name", "Office"],
        ["Barking and Dagenham", "Manor Junior", "head@manor-j.bardaglea.org.uk", "Ann", "Head"],
    ]  # fmt: skip
    _job, body = run(rows)
    counts = body["summary"]["counts"]
    assert (counts["created"], counts["updated"], counts["ambiguous"]) == (1, 1, 0)
    contact.refresh_from_db()
    # evidence (b): the address was linked to one of the tied schools by an earlier import
    assert (contact.organization_id, contact.contact_person) == (schools["joseph_dagenham"].pk, "New Name")
    _job, body = run(rows)
    assert body["summary"]["counts"]["unchanged"] == 2 and body["summary"]["contacts_unchanged"] == 2
    moved = [
        [
            "Barking and Dagenham",
            "Dorothy Barley Junior Academy",
            "head@manor-j.bardaglea.org.uk",
            "Ann",
            "Head",
        ]
    ]
    run(moved)
    moved_contact = Contact.objects.get(work_email="head@manor-j.bardaglea.org.uk")
    assert (moved_contact.organization.urn, moved_contact.match_method) == ("140687", "T1")


def test_urn_column_decides(schools, run):
    header = [*HEADER, "URN"]
    rows = [["Barking and Dagenham", "St Joseph's Catholic Primary", "a@b.org", "Ann", "Head", "101236"]]
    run(rows, header=header)
    assert Contact.objects.get(work_email="a@b.org").match_method == "urn"


def test_dry_run_writes_no_contacts(schools, run):
    rows = [["Barking and Dagenham", "Manor Junior", "head@manor-j.bardaglea.org.uk", "Ann", "Head"]]
    _job, body = run(rows, fmt="csv", dry_run=True)
    assert body["summary"]["dry_run"] is True and body["summary"]["counts"]["created"] == 1
    assert not Contact.objects.exists()


def test_wrong_headers_fail(run):
    _job, body = run([["a", "b"]], header=["School", "Email"])
    assert body["status"] == "failed"
    assert body["error"].startswith("Missing required column(s): LocalAuthority, OrganizationName.")
    assert ActivityLog.objects.filter(event_type="import_failed").exists()
