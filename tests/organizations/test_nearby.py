"""Nearby organisations and contacts for a candidate (api.md C7, C8; imports-and-geo.md §7; P1, B14, B15, V1)."""

import datetime
import math
import random
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from candidates.models import Candidate
from core.geo.distance import EARTH_RADIUS_KM, haversine_km
from organizations import nearby
from organizations.models import Contact, GeocodePrecision, Organization
from outreach.models import OutreachJob, OutreachMessage, Suppression
from tests.organizations.conftest import (
    B15_2TT,
    EC3A_5DE,
    LS1_4AP,
    M1_1AE,
    SW1A_1AA,
    make_candidate,
    make_contact,
    make_org,
)

pytestmark = pytest.mark.django_db


def orgs_url(candidate, query=""):
    return f"/api/candidates/{candidate.pk}/nearby-organizations/{query}"


def contacts_url(candidate, query=""):
    return f"/api/candidates/{candidate.pk}/nearby-contacts/{query}"


# --- C7 -------------------------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_known_distances_sorted_with_units(operator_client):
    make_org("Leeds School", lat=LS1_4AP[0], lng=LS1_4AP[1])
    make_org("Birmingham School", lat=B15_2TT[0], lng=B15_2TT[1])
    make_org("Ungeocoded School")
    candidate = make_candidate(postcode="M1 1AE", location="Manchester")
    response = operator_client.get(orgs_url(candidate, "?radius_km=150"))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [item["organization"]["name"] for item in body["organizations"]] == [
        "Leeds School",
        "Birmingham School",
    ]
    leeds, birmingham = body["organizations"]
    assert leeds["distance_km"] == pytest.approx(56.45, abs=0.05)
    assert birmingham["distance_km"] == pytest.approx(116.34, abs=0.05)
    assert leeds["distance"] == leeds["distance_km"]  # unit km by default
    assert body["total_found"] == 2 and body["truncated"] is False
    assert body["candidate_lat"] == pytest.approx(M1_1AE[0], abs=0.0005)
    assert body["candidate_lng"] == pytest.approx(M1_1AE[1], abs=0.0005)
    assert body["candidate_geo_precision"] == "unit"
    assert (body["radius_km"], body["unit"], body["radius"]) == (150.0, "km", 150.0)
    assert body["candidate_location"] == "Manchester"
    assert set(leeds["organization"]) >= {"contacts", "street", "county", "latitude", "geocode_precision"}

    miles = operator_client.get(orgs_url(candidate, "?radius=60&unit=MI")).json()
    assert miles["unit"] == "mi" and miles["radius"] == 60.0
    assert miles["radius_km"] == pytest.approx(96.56, abs=0.01)
    assert [item["distance"] for item in miles["organizations"]] == [pytest.approx(35.07, abs=0.05)]


def test_london_pair_and_inclusive_radius(operator_client):
    make_org("Palace School", lat=SW1A_1AA[0], lng=SW1A_1AA[1])
    candidate = make_candidate(postcode="EC3A 5DE")
    body = operator_client.get(orgs_url(candidate)).json()
    distance = body["organizations"][0]["distance_km"]
    assert distance == pytest.approx(4.66, abs=0.05)
    lat, lng = body["candidate_lat"], body["candidate_lng"]
    true_km = haversine_km(lat, lng, SW1A_1AA[0], SW1A_1AA[1])
    assert (
        operator_client.get(orgs_url(candidate, f"?radius_km={true_km + 0.0005}")).json()["total_found"] == 1
    )
    assert operator_client.get(orgs_url(candidate, f"?radius_km={true_km - 0.01}")).json()["total_found"] == 0


def test_ties_by_name_then_id_and_limit(operator_client):
    for name in ("Beta", "Alpha", "Gamma", "Alpha"):
        make_org(name, lat=EC3A_5DE[0], lng=EC3A_5DE[1])
    candidate = make_candidate(postcode="EC3A 5DE")
    items = operator_client.get(orgs_url(candidate)).json()["organizations"]
    names = [item["organization"]["name"] for item in items]
    assert names == ["Alpha", "Alpha", "Beta", "Gamma"]
    alpha_ids = [item["organization"]["id"] for item in items[:2]]
    assert alpha_ids == sorted(alpha_ids)
    limited = operator_client.get(orgs_url(candidate, "?limit=2")).json()
    assert len(limited["organizations"]) == 2 and limited["total_found"] == 4 and limited["truncated"] is True


def test_filters(operator_client):
    make_org("Oak Primary", la="Tower Hamlets", town="London", phase="primary", lat=51.514, lng=-0.075)
    make_org(
        "Elm Girls", la="Hackney", town="London", phase="secondary", gender="girls", lat=51.52, lng=-0.07
    )
    candidate = make_candidate(postcode="EC3A 5DE")

    def names(query):
        response = operator_client.get(orgs_url(candidate, query))
        assert response.status_code == 200, response.json()
        return [item["organization"]["name"] for item in response.json()["organizations"]]

    assert names("?phase=Primary") == ["Oak Primary"]
    assert names("?gender=GIRLS") == ["Elm Girls"]
    assert names("?local_authority=hack") == ["Elm Girls"]
    assert names("?search=oak") == ["Oak Primary"]
    assert names("?town=london&phase=secondary") == ["Elm Girls"]


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("?radius_km=0", "radius_km"),
        ("?radius_km=-3", "radius_km"),
        ("?radius_km=200.5", "radius_km"),
        ("?radius_km=abc", "radius_km"),
        ("?radius_km=inf", "radius_km"),
        ("?radius=125&unit=mi", "radius"),
        ("?radius=5&unit=yards", "unit"),
        ("?phase=college", "phase"),
        ("?gender=x", "gender"),
        ("?limit=0", "limit"),
        ("?limit=2001", "limit"),
    ],
)
def test_parameter_errors_are_400(operator_client, query, field):
    candidate = make_candidate(postcode="EC3A 5DE")
    response = operator_client.get(orgs_url(candidate, query))
    assert response.status_code == 400
    assert field in response.json()
    response = operator_client.get(contacts_url(candidate, query.replace("limit", "radius_km")))
    assert response.status_code == 400


@pytest.mark.sqlite
def test_candidate_coordinates_computed_on_demand_and_stored(operator_client):
    candidate = make_candidate(postcode="SW1A 1AA", location="Somewhere")
    assert candidate.latitude is None
    assert operator_client.get(orgs_url(candidate)).status_code == 200
    candidate.refresh_from_db()
    assert float(candidate.latitude) == pytest.approx(SW1A_1AA[0], abs=0.0005)
    assert candidate.geo_precision == "unit" and candidate.geocoded_at is not None


def test_stored_coordinates_used_including_zero(operator_client):
    """0.0 is a real coordinate (B14): a candidate on the prime meridian is not 'missing'."""
    make_org("Greenwich School", lat=51.4779, lng=0.0)
    candidate = make_candidate(
        latitude=Decimal("51.477900"), longitude=Decimal("0.000000"), geo_precision="manual"
    )
    body = operator_client.get(orgs_url(candidate, "?radius_km=1")).json()
    assert body["candidate_lng"] == 0.0 and body["total_found"] == 1


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("fields", "code", "detail"),
    [
        ({}, "location_missing", "Candidate has no location or postcode."),
        ({"location": "  "}, "location_missing", "Candidate has no location or postcode."),
        (
            {"location": "Dhaka, Bangladesh"},
            "location_not_geocodable",
            "Could not determine coordinates for 'Dhaka, Bangladesh'. Set a UK postcode or a UK town.",
        ),
        (
            {"location": "Perth, Australia"},
            "location_not_geocodable",
            "Could not determine coordinates for 'Perth, Australia'. Set a UK postcode or a UK town.",
        ),
    ],
)
def test_unlocatable_candidate_is_422(operator_client, fields, code, detail):
    candidate = make_candidate(**fields)
    for url in (orgs_url(candidate), contacts_url(candidate)):
        response = operator_client.get(url)
        assert response.status_code == 422
        assert response.json() == {"detail": detail, "code": code}


@pytest.mark.sqlite
def test_unknown_candidate_is_404(operator_client):
    for path in ("/api/candidates/nope/nearby-organizations/", "/api/candidates/nope/nearby-contacts/"):
        response = operator_client.get(path)
        assert response.status_code == 404
        assert response.json() == {"detail": "Candidate not found."}


def test_nearby_requires_operator(api_client, make_user):
    candidate = make_candidate(postcode="EC3A 5DE")
    assert api_client.get(orgs_url(candidate)).status_code == 401
    api_client.force_authenticate(make_user("plain@example.org"))
    assert api_client.get(contacts_url(candidate)).status_code == 403


# --- C8 -------------------------------------------------------------------------------------------------------


@pytest.fixture
def london(db):
    near = make_org(
        "Zeta Academy", la="City of London", town="London", postcode="EC3A 5DE", lat=51.514, lng=-0.0775
    )
    near_b = make_org(
        "Alpha School", la="City of London", town="London", lat=51.514, lng=-0.0775, gender="girls"
    )
    far = make_org("Palace School", la="Westminster", town="London", lat=SW1A_1AA[0], lng=SW1A_1AA[1])
    out = make_org("Birmingham School", la="Birmingham", lat=B15_2TT[0], lng=B15_2TT[1])
    contacts = {
        "zeta_b": make_contact(near, person="Bea", email="bea@zeta.sch.uk", title="Senco"),
        "zeta_a": make_contact(near, person="Abe", email="abe@zeta.sch.uk", title="Headteacher"),
        "alpha": make_contact(near_b, person="Cat", email="cat@alpha.sch.uk", title="Office Manager"),
        "palace": make_contact(far, person="Dan", email="dan@palace.sch.uk", title="Headteacher"),
        "birmingham": make_contact(out, person="Eve", email="eve@brum.sch.uk"),
    }
    return contacts


def test_contacts_sorted_by_distance_org_person(operator_client, london):
    candidate = make_candidate(postcode="EC3A 5DE")
    response = operator_client.get(contacts_url(candidate))
    assert response.status_code == 200, response.json()
    body = response.json()
    assert [r["contact_person"] for r in body["results"]] == ["Cat", "Abe", "Bea", "Dan"]
    assert body["pagination"]["total"] == 4
    first = body["results"][0]
    assert set(first) == {
        "contact_id",
        "contact_person",
        "contact_email",
        "contact_job_title",
        "organization_id",
        "organization_name",
        "organization_phase",
        "organization_gender",
        "organization_town",
        "organization_county",
        "organization_postcode",
        "organization_local_authority",
        "organization_telephone",
        "organization_urn",
        "distance_km",
        "distance",
        "already_contacted",
        "suppressed",
    }
    assert first["organization_phase"] == "Primary" and first["organization_gender"] == "Girls"  # labels
    assert body["results"][-1]["distance_km"] == pytest.approx(4.66, abs=0.06)
    assert all(r["distance_km"] is not None for r in body["results"])
    assert (body["candidate"], body["radius_km"], body["unit"], body["radius"]) == (
        "Sarah Jones",
        10.0,
        "km",
        10.0,
    )


def test_contact_filters_search_any_field_and_gender(operator_client, london):
    candidate = make_candidate(postcode="EC3A 5DE")

    def people(query):
        response = operator_client.get(contacts_url(candidate, query))
        assert response.status_code == 200, response.json()
        return [r["contact_person"] for r in response.json()["results"]]

    assert people("?gender=girls") == ["Cat"]
    assert people("?search=westminster") == ["Dan"]  # an organisation field
    assert people("?search=senco") == ["Bea"]  # a contact field
    assert people("?search=abe@zeta") == ["Abe"]
    assert people("?job_title=head") == ["Abe", "Dan"]
    assert people("?org_name=zeta&contact_name=b") == ["Abe", "Bea"]
    assert people("?contact_email=palace") == ["Dan"]
    assert people("?postcode=ec3a") == ["Abe", "Bea"]
    assert people("?local_authority=westminster") == ["Dan"]
    assert people("?radius_km=200") == ["Cat", "Abe", "Bea", "Dan", "Eve"]


def test_contacts_exclude_contacted_and_suppressed(operator_client, london):
    candidate = make_candidate(postcode="EC3A 5DE")
    job = OutreachJob.objects.create(candidate=candidate, subject="s", body="b")
    for status in (OutreachMessage.Status.SENT, OutreachMessage.Status.FAILED):
        contact = london["zeta_a"] if status == OutreachMessage.Status.SENT else london["palace"]
        OutreachMessage.objects.create(
            job=job,
            candidate=candidate,
            contact=contact,
            contact_email=contact.work_email,
            subject="s",
            status=status,
        )
    Suppression.objects.create(email="cat@alpha.sch.uk", reason="unsubscribe")
    rows = {r["contact_person"]: r for r in operator_client.get(contacts_url(candidate)).json()["results"]}
    assert rows["Abe"]["already_contacted"] is True and rows["Dan"]["already_contacted"] is False
    assert rows["Cat"]["suppressed"] is True and rows["Abe"]["suppressed"] is False
    body = operator_client.get(contacts_url(candidate, "?exclude_contacted=true&exclude_suppressed=1")).json()
    assert [r["contact_person"] for r in body["results"]] == ["Bea", "Dan"]
    other = make_candidate(postcode="EC3A 5DE", name="Other")
    other_rows = operator_client.get(contacts_url(other, "?exclude_contacted=true")).json()["results"]
    assert len(other_rows) == 4  # only this candidate's sends count


def test_contacts_paginate_in_sql(operator_client, london):
    candidate = make_candidate(postcode="EC3A 5DE")
    body = operator_client.get(contacts_url(candidate, "?page_size=2&page=2&unit=mi")).json()
    assert body["pagination"]["total"] == 4 and body["pagination"]["total_pages"] == 2
    assert [r["contact_person"] for r in body["results"]] == ["Bea", "Dan"]
    assert body["results"][1]["distance"] == pytest.approx(2.89, abs=0.04)
    assert operator_client.get(contacts_url(candidate, "?page=9")).status_code == 404
    with CaptureQueriesContext(connection) as queries:
        operator_client.get(contacts_url(candidate, "?page_size=2"))
    page_sql = [q["sql"] for q in queries.captured_queries if "LIMIT" in q["sql"] and "contact" in q["sql"]]
    assert page_sql, "the page is cut in SQL"
    assert len(queries.captured_queries) <= 6


# --- SQL shape and query plans (P1) -----------------------------------------------------------------------------


def _spread(count: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    Organization.objects.bulk_create(
        [
            Organization(
                name=f"School {i:05d}",
                local_authority=f"LA {i % 150}",
                urn=str(200000 + i),
                latitude=Decimal(f"{rng.uniform(50.0, 55.5):.6f}"),
                longitude=Decimal(f"{rng.uniform(-5.5, 1.5):.6f}"),
                geocode_precision=GeocodePrecision.UNIT,
            )
            for i in range(count)
        ],
        batch_size=2000,
    )


@pytest.mark.sqlite
def test_sql_computes_haversine_on_boxed_rows(db):
    _spread(800)
    circle = nearby.Circle(EC3A_5DE[0], EC3A_5DE[1], 50.0)
    queryset = nearby.nearby_organizations(circle)
    sql = str(queryset.query).upper()
    assert "ASIN" in sql and "SQRT" in sql and "RADIANS" in sql and "ORDER BY" in sql
    if connection.vendor == "postgresql":  # the box as the GiST index's expression (migration 0003)
        assert 'POINT("ORGANIZATIONS_ORGANIZATION"."LONGITUDE_FLOAT"' in sql and "<@ BOX(POINT(" in sql
    else:  # the box on the raw columns of the B-tree index
        assert '"LATITUDE" >=' in sql and '"LONGITUDE" <=' in sql
    rows = list(queryset.values_list("latitude", "longitude", "distance_km"))
    assert rows
    for lat, lng, km in rows:
        assert km == pytest.approx(haversine_km(EC3A_5DE[0], EC3A_5DE[1], float(lat), float(lng)), abs=1e-6)
        assert km <= 50.0
    assert [km for *_, km in rows] == sorted(km for *_, km in rows)
    everything = [
        haversine_km(EC3A_5DE[0], EC3A_5DE[1], float(lat), float(lng))
        for lat, lng in Organization.objects.values_list("latitude", "longitude")
    ]
    assert len(rows) == sum(1 for km in everything if km <= 50.0)  # the box never cuts the circle


@pytest.mark.sqlite
@pytest.mark.parametrize("radius_km", [0.3, 5.0, 15.0])
def test_box_keeps_points_on_its_edges(db, radius_km):
    """Due north or south of the centre a point at exactly the radius lies on the box's edge: the prefilter
    (BETWEEN on SQLite, point <@ box on PostgreSQL) must keep it, so the inclusive radius finds it."""
    lat, lng = EC3A_5DE
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    for edge in (lat + dlat, lat - dlat):
        school = make_org(f"Edge {edge:.6f}", lat=edge, lng=lng)
        stored = float(school.latitude)
        radius = haversine_km(lat, lng, stored, lng) + 1e-9
        found = nearby.nearby_organizations(nearby.Circle(lat, lng, radius)).values_list("pk", flat=True)
        assert school.pk in set(found), (edge, radius)
        school.delete()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="query plans are asserted on PostgreSQL")
def test_explain_uses_the_geo_index(db):
    _spread(6000)
    Contact.objects.bulk_create(
        [
            Contact(organization_id=pk, contact_person="Head", work_email=f"head{i}@school{i}.sch.uk")
            for i, pk in enumerate(Organization.objects.values_list("pk", flat=True))
        ],
        batch_size=2000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE organizations_organization")
        cursor.execute("ANALYZE organizations_contact")
    circle = nearby.Circle(EC3A_5DE[0], EC3A_5DE[1], 10.0)
    plan = nearby.nearby_organizations(circle)[:500].explain()
    # The GiST index on point(longitude, latitude) serves the box on PostgreSQL (migration 0003).
    assert "Index Scan using org_geo_box_gist" in plan or "Bitmap Index Scan on org_geo_box_gist" in plan, (
        plan
    )
    assert "Seq Scan on organizations_organization" not in plan, plan
    contacts_plan = nearby.nearby_contacts(circle)[:20].explain()
    assert "org_geo_box_gist" in contacts_plan, contacts_plan
    assert "Seq Scan on organizations_organization" not in contacts_plan, contacts_plan


def test_location_change_recomputes_centre(operator_client):
    """A candidate moved by the candidates app (coordinates cleared) is located again on the next search."""
    make_org("Leeds School", lat=LS1_4AP[0], lng=LS1_4AP[1])
    candidate = make_candidate(postcode="M1 1AE")
    assert operator_client.get(orgs_url(candidate, "?radius_km=60")).json()["total_found"] == 1
    Candidate.objects.filter(pk=candidate.pk).update(postcode="LS1 4AP", latitude=None, longitude=None)
    body = operator_client.get(orgs_url(candidate, "?radius_km=1")).json()
    assert body["total_found"] == 1
    assert body["organizations"][0]["distance_km"] == pytest.approx(0.0, abs=0.05)


@pytest.mark.sqlite
def test_nearby_organization_equals_its_detail(operator_client):
    """C7 builds OrganizationDetail from rows in bulk; it must be exactly what O3 returns."""
    school = make_org(
        "Detail School", lat=51.514, lng=-0.0775, postcode="EC3A 5DE", telephone="020 7283 1147"
    )
    make_contact(school, person="Zed", email="zed@detail.sch.uk")
    make_contact(school, person="Amy", email="amy@detail.sch.uk", title="")
    Suppression.objects.create(email="zed@detail.sch.uk", reason="manual")
    candidate = make_candidate(postcode="EC3A 5DE")
    item = operator_client.get(orgs_url(candidate)).json()["organizations"][0]
    assert item["organization"] == operator_client.get(f"/api/organizations/{school.pk}/").json()
    # timestamps are formatted from the database's text: summer time (+01:00) and whole seconds as DRF does
    Organization.objects.filter(pk=school.pk).update(
        created_at=datetime.datetime(2026, 7, 1, 9, 30, 0, tzinfo=datetime.UTC),
        updated_at=datetime.datetime(2026, 12, 1, 9, 30, 0, 5, tzinfo=datetime.UTC),
    )
    item = operator_client.get(orgs_url(candidate)).json()["organizations"][0]["organization"]
    assert (item["created_at"], item["updated_at"]) == (
        "2026-07-01T10:30:00+01:00",
        "2026-12-01T09:30:00.000005Z",
    )
    assert item == operator_client.get(f"/api/organizations/{school.pk}/").json()


@pytest.mark.sqlite
def test_contacts_bad_page_is_404(operator_client, london):
    candidate = make_candidate(postcode="EC3A 5DE")
    for page in ("0", "abc", "-1"):
        response = operator_client.get(contacts_url(candidate, f"?page={page}"))
        assert response.status_code == 404 and response.json() == {"detail": "Invalid page."}
