"""The agency's real workbooks through the Django import service (imports-and-geo.md §4–§5 acceptance figures).

Runs only where the reference files exist: ../shared/data/reference/ beside the project, or the folder named by
CVENGINE_REFERENCE_DATA. Both files are imported once (module fixture) through ``start_import`` + ``run_job`` —
storage, chunked writes, geocoding and matching included.
"""

import csv
import io
import os
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import default_storage

from accounts.models import ActivityLog
from core.imports.contacts import CONTACT_COLUMNS, normalise_email
from core.imports.spreadsheet import open_spreadsheet
from core.matching.names import normalise_local_authority, tier_keys
from organizations import imports
from organizations.models import Contact, ImportJob, Organization

REFERENCE = Path(
    os.environ.get(
        "CVENGINE_REFERENCE_DATA", Path(__file__).resolve().parents[2].parent / "shared/data/reference"
    )
)
ORGANIZATIONS = REFERENCE / "Organizations.xlsx"
CONTACTS = REFERENCE / "Contacts.xlsx"

if not (ORGANIZATIONS.is_file() and CONTACTS.is_file()):
    pytest.skip(f"reference workbooks not found in {REFERENCE}", allow_module_level=True)

pytestmark = pytest.mark.django_db


def _import(kind: str, path: Path) -> ImportJob:
    with path.open("rb") as handle:
        job = imports.start_import(kind, File(handle, name=path.name), False, None, enqueue=False)
    imports.run_job(job.pk)
    job.refresh_from_db()
    return job


@pytest.fixture(scope="module")
def imported(django_db_setup, django_db_blocker):
    """Both real files imported into the test database (kept for this module, removed afterwards)."""
    with django_db_blocker.unblock():
        organizations = _import(ImportJob.Kind.ORGANIZATIONS, ORGANIZATIONS)
        contacts = _import(ImportJob.Kind.CONTACTS, CONTACTS)
        try:
            yield organizations, contacts
        finally:
            ActivityLog.objects.filter(
                event_type__in=["org_import_completed", "contact_import_completed"]
            ).delete()
            Contact.objects.all().delete()
            Organization.objects.all().delete()
            ImportJob.objects.all().delete()


@pytest.fixture
def db_access(imported, db):
    return imported


def test_every_school_row_is_kept(db_access):
    job, _contacts = db_access
    assert job.status == "completed", job.error
    counts = job.summary["counts"]
    assert counts["rows"] == 24_891 and counts["created"] == 24_891 and counts["skipped"] == 0
    assert Organization.objects.count() == 24_891
    assert (
        Organization.objects.filter(
            name="Croxteth Community Primary School", local_authority="Liverpool"
        ).count()
        == 2
    )
    problems = Counter(p["code"] for p in job.summary["problems"])
    assert problems["telephone_unusual"] == 25 and problems["telephone_precision_lost"] == 3
    assert problems["missing_postcode"] == 9
    assert Organization.objects.get(urn="100000").telephone == "020 7283 1147"  # 2072831147 in the file
    phases = Counter(Organization.objects.values_list("phase", flat=True))
    assert phases["primary"] == 16_754 and phases["16_plus"] == 326
    didcot = Organization.objects.get(urn="132916")  # no postcode and no town: stays ungeocoded
    assert didcot.latitude is None
    # The test gazetteer holds only a few outward codes; the other schools fall back to their town.
    assert Organization.objects.filter(geocode_precision="unit").count() > 50
    assert Organization.objects.filter(latitude__isnull=False).count() > 24_000


def test_contacts_matched_and_reported(db_access):
    _organizations, job = db_access
    assert job.status == "completed", job.error
    counts = job.summary["counts"]
    assert counts["rows"] == 26_430
    assert counts["unmatched"] == 25
    assert counts["ambiguous"] <= 120
    lines = list(
        csv.DictReader(io.StringIO(default_storage.open(job.rejects_file).read().decode("utf-8-sig")))
    )
    statuses = Counter(line["status"] for line in lines)
    assert len(lines) == counts["skipped"] + counts["unmatched"] + counts["ambiguous"]  # every unlinked row
    invalid = statuses["invalid"]
    assert invalid == 125  # rows without an e-mail address
    matched = (
        counts["rows"] - invalid - counts["unmatched"] - counts["ambiguous"]
    )  # linked or duplicate of one
    assert matched >= 26_200 - 125
    assert matched / counts["rows"] >= 0.99
    assert Contact.objects.count() == counts["created"] >= 24_850  # 25,012 distinct addresses in the file
    ambiguous = [line for line in lines if line["status"] == "ambiguous"]
    assert all(len(line["candidate_urns"].split()) >= 2 for line in ambiguous)


TRICKY = {
    # e-mail → expected URN (None: must stay unlinked)
    "headteacher@d-barley-i.bardaglea.org.uk": "101188",  # "Dorothy Barley Infants'" (T3), not the junior
    "headteacher@d-barley-j.bardaglea.org.uk": "140687",  # "Dorothy Barley Junior Academy" (T1)
    "headteacher@manor-j.bardaglea.org.uk": "101192",  # "Manor Junior" → Manor Junior School
    "headteacher@st-jobarking.bardaglea.org.uk": "101235",  # Barking St Joseph's, not Dagenham's 101236
    "head@stjosephs-dorking.surrey.sch.uk": "125204",  # town token
    "head@stjosephs-epsom.surrey.sch.uk": "125205",
    "headteacher@stpetersaylesford.kent.sch.uk": "118617",
    "head@stjosephs351.herts.sch.uk": None,  # three Hertfordshire St Joseph's, nothing decides: never guessed
    "head@stjosephs255.herts.sch.uk": None,
}


def test_tricky_real_rows_have_no_wrong_match(db_access):
    for email, urn in TRICKY.items():
        contact = Contact.objects.filter(work_email=email).select_related("organization").first()
        if urn is None:
            assert contact is None, email
        else:
            assert contact is not None and contact.organization.urn == urn, email


def test_every_link_agrees_with_its_row(db_access):
    """Every stored contact: one row of the file with that address has the school's local authority
    and the school's name at the tier the link was made by (evidence links: at one of T1–T3)."""
    with open_spreadsheet(CONTACTS, CONTACT_COLUMNS) as sheet:
        rows_of = defaultdict(list)
        for row in sheet.rows():
            if email := normalise_email(row.values["work_email"]):
                rows_of[email].append(row.values)
    contacts = list(
        Contact.objects.select_related("organization")
        .only("work_email", "match_method", "organization__name", "organization__local_authority")
        .order_by("work_email")
    )
    for contact in contacts:
        school = contact.organization
        school_keys = tier_keys(school.name)

        def agrees(values, contact=contact, school=school, school_keys=school_keys) -> bool:
            if normalise_local_authority(values["local_authority"]) != normalise_local_authority(
                school.local_authority
            ):
                return False
            row_keys = tier_keys(values["organization_name"])
            if contact.match_method.startswith("T"):
                tier = int(contact.match_method[1]) - 1
                return row_keys[tier] == school_keys[tier]
            assert contact.match_method.startswith("evidence_"), contact.match_method
            return any(row_keys[t] and row_keys[t] == school_keys[t] for t in range(3))

        assert any(agrees(values) for values in rows_of[contact.work_email]), (
            contact.work_email,
            school.name,
        )
