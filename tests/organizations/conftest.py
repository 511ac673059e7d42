"""Fixtures for the organisations tests: schools at known coordinates, candidates, workbooks."""

import uuid
from decimal import Decimal

import pytest

from organizations.models import Contact, GeocodePrecision, Organization

# Official unit coordinates (imports-and-geo.md §8).
EC3A_5DE = (51.51366, -0.07747)
SW1A_1AA = (51.50101, -0.14159)
M1_1AE = (53.48349, -2.23118)
LS1_4AP = (53.79547, -1.55573)
B15_2TT = (52.45328, -1.92789)


def make_org(name="Oak Primary School", la="Camden", lat=None, lng=None, **fields) -> Organization:
    fields.setdefault("urn", str(100000 + Organization.objects.count() + 1))
    fields.setdefault("phase", "primary")
    if lat is not None:
        fields.update(
            latitude=Decimal(f"{lat:.6f}"),
            longitude=Decimal(f"{lng:.6f}"),
            geocode_precision=GeocodePrecision.UNIT,
        )
    return Organization.objects.create(name=name, local_authority=la, **fields)


def make_contact(organization, person="Ann Head", email=None, title="Headteacher") -> Contact:
    email = email or f"{uuid.uuid4().hex[:10]}@school.example.org"
    return Contact.objects.create(
        organization=organization, contact_person=person, job_title=title, work_email=email.lower()
    )


def make_candidate(**fields):
    from candidates.models import Candidate, Stage

    fields.setdefault("name", "Sarah Jones")
    fields.setdefault("file_sha256", uuid.uuid4().hex * 2)
    fields.setdefault("processing_stage", Stage.DONE)
    return Candidate.objects.create(**fields)


@pytest.fixture
def org_factory(db):
    return make_org


@pytest.fixture
def contact_factory(db):
    return make_contact


@pytest.fixture
def candidate_factory(db):
    return make_candidate
