"""Organisation and contact CRUD (api.md O1–O11): validation, uniqueness, normalisation, geocoding rules (B16)."""

import uuid
from decimal import Decimal

import pytest

from organizations.models import Contact, GeocodePrecision, Organization
from outreach.models import Suppression
from tests.organizations.conftest import EC3A_5DE, M1_1AE, SW1A_1AA, make_contact, make_org

pytestmark = pytest.mark.django_db
URL = "/api/organizations/"


def create(client, **fields):
    body = {"name": "Oak Primary School", "local_authority": "City of London", **fields}
    return client.post(URL, body, format="json")


# --- access ---------------------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_operator_only(api_client, make_user):
    assert api_client.get(URL).status_code == 401
    api_client.force_authenticate(make_user("plain@example.org"))
    response = api_client.get(URL)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert api_client.get("/api/organizations/contacts/").status_code == 403


@pytest.mark.sqlite
def test_attribution_is_public_and_ignores_bad_credentials(api_client):
    api_client.cookies["access_token"] = "garbage"
    response = api_client.get("/api/attribution/")
    assert response.status_code == 200
    entries = {entry["dataset"]: entry for entry in response.json()["attribution"]}
    assert set(entries) == {"ONS Postcode Directory", "GeoNames"}  # online geocoding is off
    assert "Open Government Licence v.3.0" in entries["ONS Postcode Directory"]["text"]
    assert "© Crown copyright and database right 2025" in entries["ONS Postcode Directory"]["text"]
    assert entries["GeoNames"]["licence"] == "CC BY 4.0"


def test_attribution_lists_openstreetmap_when_online(api_client, settings):
    settings.GEO_ONLINE_ENABLED = True
    datasets = [e["dataset"] for e in api_client.get("/api/attribution/").json()["attribution"]]
    assert "Nominatim / OpenStreetMap" in datasets


# --- O2 create ------------------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_create_normalises_and_geocodes_offline(operator_client):
    response = create(
        operator_client,
        urn="100154",
        postcode=" ec3a5de ",
        telephone="2072831147",
        phase="PRIMARY",
        gender="Girls",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["urn"] == "100154"
    assert body["postcode"] == "EC3A 5DE"
    assert body["telephone"] == "020 7283 1147"
    assert (body["phase"], body["gender"]) == ("primary", "girls")
    assert body["geocode_precision"] == "unit"
    assert abs(float(body["latitude"]) - EC3A_5DE[0]) < 0.0005
    assert abs(float(body["longitude"]) - EC3A_5DE[1]) < 0.0005
    assert isinstance(body["latitude"], str)  # stored decimals serialise as strings
    assert body["contacts"] == []
    assert Organization.objects.get(pk=body["id"]).geocoded_at is not None


def test_create_defaults_and_town_fallback(operator_client):
    body = create(operator_client, town="Manchester").json()
    assert (body["phase"], body["gender"]) == ("not_applicable", "mixed")
    assert body["geocode_precision"] == "town"
    assert abs(float(body["latitude"]) - 53.48095) < 0.01


def test_create_with_coordinates_is_manual(operator_client):
    body = create(operator_client, postcode="EC3A 5DE", latitude="53.1234567", longitude=-2.5).json()
    assert body["geocode_precision"] == "manual"
    assert (body["latitude"], body["longitude"]) == ("53.123457", "-2.500000")


def test_create_zero_coordinates_are_kept(operator_client):
    body = create(operator_client, latitude=0, longitude=0).json()
    assert (body["latitude"], body["longitude"], body["geocode_precision"]) == (
        "0.000000",
        "0.000000",
        "manual",
    )


def test_create_unknown_place_has_no_coordinates(operator_client):
    body = create(operator_client, town="Atlantis").json()
    assert body["latitude"] is None and body["geocode_precision"] is None


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"urn": "12a"}, "urn"),
        ({"urn": "1" * 21}, "urn"),
        ({"postcode": "NOT A CODE"}, "postcode"),
        ({"phase": "kindergarten"}, "phase"),
        ({"gender": "other"}, "gender"),
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"latitude": "abc", "longitude": 0}, "latitude"),
        ({"latitude": "NaN", "longitude": 0}, "latitude"),
        ({"longitude": 181, "latitude": 0}, "longitude"),
        ({"latitude": 51.5}, "non_field_errors"),
        ({"name": "  "}, "name"),
        ({"telephone": "abc"}, "telephone"),
        ({"town": "x" * 101}, "town"),
    ],
)
def test_create_validation(operator_client, fields, field):
    response = create(operator_client, **fields)
    assert response.status_code == 400
    assert field in response.json()


def test_create_requires_name_and_local_authority(operator_client):
    response = operator_client.post(URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"name", "local_authority"}


@pytest.mark.sqlite
def test_urn_unique_and_same_name_allowed(operator_client):
    assert create(operator_client, urn="104612", postcode="L11 3BT").status_code == 201
    response = create(operator_client, urn="104612")
    assert response.status_code == 400
    assert response.json() == {"urn": ["An organization with this URN already exists."]}
    # Two schools of one name in one authority (B2) are both allowed, with their own URNs.
    assert create(operator_client, urn="146768", postcode="L11 3BT").status_code == 201


def test_urnless_duplicate_by_normalised_key(operator_client):
    assert create(operator_client, name="St. Mary's C of E Primary", postcode="SE3 9GJ").status_code == 201
    response = create(
        operator_client, name="St Marys CE Primary", postcode="se39gj", local_authority="CITY OF LONDON"
    )
    assert response.status_code == 400
    assert "non_field_errors" in response.json()
    # another postcode: a different school
    assert create(operator_client, name="St Marys CE Primary", postcode="SE3 9GK").status_code == 201


# --- O3/O4/O5 -------------------------------------------------------------------------------------------------


def test_detail_lists_contacts_with_suppression(operator_client):
    organization = make_org()
    make_contact(organization, person="Zed", email="zed@oak.sch.uk")
    make_contact(organization, person="Amy", email="amy@oak.sch.uk")
    Suppression.objects.create(email="zed@oak.sch.uk", reason="unsubscribe")
    body = operator_client.get(f"{URL}{organization.pk}/").json()
    assert [(c["contact_person"], c["is_suppressed"]) for c in body["contacts"]] == [
        ("Amy", False),
        ("Zed", True),
    ]
    assert set(body["contacts"][0]) == {"id", "contact_person", "job_title", "work_email", "is_suppressed"}


@pytest.mark.sqlite
@pytest.mark.parametrize("bad", ["nope", str(uuid.uuid4()), "123"])
def test_unknown_or_malformed_ids_are_404(operator_client, bad):
    for path in (f"{URL}{bad}/", f"{URL}{bad}/contacts/", f"{URL}contacts/{bad}/"):
        response = operator_client.get(path)
        assert response.status_code == 404
    assert operator_client.get(f"{URL}{bad}/").json() == {"detail": "Organization not found."}
    assert operator_client.get(f"{URL}contacts/{bad}/").json() == {"detail": "Contact not found."}
    assert operator_client.patch(f"{URL}{bad}/", {"name": "x"}, format="json").status_code == 404
    assert operator_client.delete(f"{URL}{bad}/").status_code == 404


def test_patch_same_address_does_not_regeocode(operator_client):
    """B16: a field merely present with its old value changes nothing."""
    organization = make_org(postcode="EC3A 5DE", lat=1.0, lng=1.0, town="London")
    response = operator_client.patch(
        f"{URL}{organization.pk}/",
        {"postcode": "ec3a 5de", "town": "London", "name": "Renamed"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "Renamed"
    assert (body["latitude"], body["longitude"]) == ("1.000000", "1.000000")


def test_patch_changed_postcode_regeocodes(operator_client):
    organization = make_org(postcode="EC3A 5DE", lat=EC3A_5DE[0], lng=EC3A_5DE[1])
    body = operator_client.patch(f"{URL}{organization.pk}/", {"postcode": "M1 1AE"}, format="json").json()
    assert body["geocode_precision"] == "unit"
    assert abs(float(body["latitude"]) - M1_1AE[0]) < 0.0005


def test_patch_changed_address_to_unknown_clears_coordinates(operator_client):
    """B14: coordinates never outlive the address they came from."""
    organization = make_org(town="London", lat=51.5, lng=-0.12)
    body = operator_client.patch(f"{URL}{organization.pk}/", {"town": "Atlantis"}, format="json").json()
    assert body["latitude"] is None and body["geocode_precision"] is None


def test_patch_coordinates_with_address_keeps_sent_coordinates(operator_client):
    """B16: coordinates sent in the same request are never discarded by re-geocoding."""
    organization = make_org(postcode="EC3A 5DE", lat=EC3A_5DE[0], lng=EC3A_5DE[1])
    body = operator_client.patch(
        f"{URL}{organization.pk}/", {"postcode": "M1 1AE", "latitude": 52.0, "longitude": -1.0}, format="json"
    ).json()
    assert (body["postcode"], body["latitude"], body["longitude"]) == ("M1 1AE", "52.000000", "-1.000000")
    assert body["geocode_precision"] == "manual"


def test_patch_null_coordinates_return_to_address(operator_client):
    organization = make_org(postcode="SW1A 1AA", lat=1, lng=1)
    Organization.objects.filter(pk=organization.pk).update(geocode_precision=GeocodePrecision.MANUAL)
    body = operator_client.patch(
        f"{URL}{organization.pk}/", {"latitude": None, "longitude": None}, format="json"
    ).json()
    assert body["geocode_precision"] == "unit"
    assert abs(float(body["latitude"]) - SW1A_1AA[0]) < 0.0005


def test_patch_urn_conflict(operator_client):
    make_org(urn="111111")
    other = make_org(urn="222222")
    response = operator_client.patch(f"{URL}{other.pk}/", {"urn": "111111"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"urn": ["An organization with this URN already exists."]}


def test_delete_organisation_and_contacts(operator_client):
    organization = make_org(name="Oak", la="Camden")
    make_contact(organization)
    response = operator_client.delete(f"{URL}{organization.pk}/")
    assert response.status_code == 200
    assert response.json() == {"message": "Organization 'Oak — Camden' deleted."}
    assert not Organization.objects.exists() and not Contact.objects.exists()


# --- O1 list --------------------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_list_filters_and_envelope(operator_client):
    oak = make_org("Oak Primary", la="Camden", town="London", postcode="NW1 6XR", phase="primary")
    make_org(
        "Elm Secondary", la="Croydon", town="Croydon", postcode="CR2 6DA", phase="secondary", gender="boys"
    )
    make_contact(oak)
    make_contact(oak)
    body = operator_client.get(URL).json()
    assert body["pagination"]["total"] == 2
    assert [o["name"] for o in body["results"]] == ["Elm Secondary", "Oak Primary"]
    oak_item = body["results"][1]
    assert oak_item["contact_count"] == 2 and "distance_km" not in oak_item
    assert set(oak_item) >= {
        "id",
        "urn",
        "local_authority",
        "phase",
        "gender",
        "telephone",
        "geocode_precision",
    }

    def names(query):
        response = operator_client.get(URL + query)
        assert response.status_code == 200, response.json()
        return [o["name"] for o in response.json()["results"]]

    assert names("?phase=Secondary") == ["Elm Secondary"]
    assert names("?phase=SECONDARY&gender=boys") == ["Elm Secondary"]
    assert names("?search=nw1") == ["Oak Primary"]
    assert names(f"?urn={oak.urn}") == ["Oak Primary"]
    assert names("?local_authority=croy") == ["Elm Secondary"]
    assert names("?ordering=-name") == ["Oak Primary", "Elm Secondary"]


@pytest.mark.parametrize(
    "query",
    ["?phase=kindergarten", "?gender=x", "?ordering=urn", "?lat=51.5", "?lat=51.5&lng=0", "?radius_km=5"],
)
def test_list_rejects_bad_filters(operator_client, query):
    assert operator_client.get(URL + query).status_code == 400


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("?lat=51.5&lng=-0.1", "lat, lng and radius_km must be given together."),
        ("?lat=91&lng=0&radius_km=5", "lat must lie in -90..90 and lng in -180..180."),
        ("?lat=abc&lng=0&radius_km=5", "lat must be a number."),
        ("?lat=51&lng=0&radius_km=0", "radius_km must be greater than 0 and at most 200."),
        ("?lat=51&lng=0&radius_km=201", "radius_km must be greater than 0 and at most 200."),
        ("?lat=51&lng=0&radius_km=nan", "radius_km must be a finite number."),
        ("?near=M1 1AE", "near needs radius_km."),
        ("?near=M1&lat=1&radius_km=3", "use either lat + lng or near, not both."),
    ],
)
def test_list_geo_parameter_errors(operator_client, query, reason):
    response = operator_client.get(URL + query)
    assert response.status_code == 400
    assert response.json()["detail"] == f"Invalid geo parameters: {reason}"


def test_list_geo_filter_with_distance(operator_client):
    make_org("City School", lat=EC3A_5DE[0], lng=EC3A_5DE[1])
    make_org("Palace School", lat=SW1A_1AA[0], lng=SW1A_1AA[1])
    make_org("Manchester School", lat=M1_1AE[0], lng=M1_1AE[1])
    make_org("Nowhere School")
    body = operator_client.get(
        f"{URL}?lat={EC3A_5DE[0]}&lng={EC3A_5DE[1]}&radius_km=10&ordering=-distance"
    ).json()
    assert [(o["name"], o["distance_km"]) for o in body["results"]] == [
        ("Palace School", pytest.approx(4.66, abs=0.05)),
        ("City School", 0.0),
    ]
    body = operator_client.get(f"{URL}?near=M1 1AE&radius_km=200&ordering=distance").json()
    assert [o["name"] for o in body["results"]] == ["Manchester School"]
    assert body["results"][0]["distance_km"] == pytest.approx(0.0, abs=0.05)


def test_list_near_unknown_is_422(operator_client):
    response = operator_client.get(f"{URL}?near=Atlantis&radius_km=5")
    assert response.status_code == 422
    assert response.json()["code"] == "location_not_geocodable"


def test_list_distance_ordering_needs_geo(operator_client):
    response = operator_client.get(f"{URL}?ordering=distance")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_ordering"


def test_list_invalid_page(operator_client):
    assert operator_client.get(f"{URL}?page=abc").json() == {"detail": "Invalid page."}


# --- contacts -------------------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_contact_create_lists_and_uniqueness(operator_client):
    organization = make_org()
    path = f"{URL}{organization.pk}/contacts/"
    response = operator_client.post(
        path,
        {"contact_person": "Senco", "job_title": "SENCO", "work_email": " Senco@Oak.SCH.uk "},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["work_email"] == "senco@oak.sch.uk"
    assert body["organization"] == str(organization.pk)
    assert body["is_role_mailbox"] is True and body["is_suppressed"] is False
    duplicate = operator_client.post(
        path, {"contact_person": "Other", "work_email": "SENCO@oak.sch.uk"}, format="json"
    )
    assert duplicate.status_code == 400
    assert duplicate.json() == {"work_email": ["A contact with this email already exists."]}
    bad = operator_client.post(path, {"contact_person": "X", "work_email": "not-an-email"}, format="json")
    assert bad.status_code == 400 and "work_email" in bad.json()
    listed = operator_client.get(path)
    assert listed.status_code == 200 and isinstance(listed.json(), list) and len(listed.json()) == 1


def test_contact_update_move_and_delete(operator_client):
    first, second = make_org("First"), make_org("Second")
    contact = make_contact(first, email="head@first.sch.uk")
    path = f"{URL}contacts/{contact.pk}/"
    body = operator_client.patch(
        path, {"organization": str(second.pk), "job_title": "Head"}, format="json"
    ).json()
    assert body["organization"] == str(second.pk) and body["job_title"] == "Head"
    unknown = operator_client.patch(path, {"organization": str(uuid.uuid4())}, format="json")
    assert unknown.status_code == 400 and unknown.json() == {"organization": ["Organization not found."]}
    malformed = operator_client.patch(path, {"organization": "nope"}, format="json")
    assert malformed.status_code == 400 and "organization" in malformed.json()
    make_contact(first, email="taken@first.sch.uk")
    taken = operator_client.patch(path, {"work_email": "TAKEN@first.sch.uk"}, format="json")
    assert taken.json() == {"work_email": ["A contact with this email already exists."]}
    response = operator_client.delete(path)
    assert response.json() == {"message": "Contact 'head@first.sch.uk' deleted."}


def test_contact_list_filters(operator_client):
    oak = make_org("Oak Primary", la="Camden", phase="primary", town="London")
    elm = make_org("Elm Secondary", la="Croydon", phase="secondary", town="Croydon")
    make_contact(oak, person="Ann Head", email="ann@oak.sch.uk", title="Headteacher")
    make_contact(elm, person="Bob Bursar", email="bob@elm.sch.uk", title="School Business Manager")
    Suppression.objects.create(email="bob@elm.sch.uk", reason="bounce")
    body = operator_client.get(f"{URL}contacts/").json()
    assert [c["contact_person"] for c in body["results"]] == ["Ann Head", "Bob Bursar"]
    nested = body["results"][0]["organization"]
    assert nested["name"] == "Oak Primary" and nested["contact_count"] == 1

    def people(query):
        response = operator_client.get(f"{URL}contacts/{query}")
        assert response.status_code == 200, response.json()
        return [c["contact_person"] for c in response.json()["results"]]

    assert people("?phase=secondary") == ["Bob Bursar"]
    assert people("?is_suppressed=true") == ["Bob Bursar"]
    assert people("?is_suppressed=false") == ["Ann Head"]
    assert people("?search=croydon") == ["Bob Bursar"]
    assert people("?org_name=oak&job_title=head") == ["Ann Head"]
    assert operator_client.get(f"{URL}contacts/?gender=nope").status_code == 400
    assert operator_client.get(f"{URL}contacts/?is_suppressed=maybe").status_code == 400


def test_decimal_coordinates_round_trip(operator_client):
    organization = make_org(lat=51.0, lng=-0.5)
    assert Organization.objects.get(pk=organization.pk).latitude == Decimal("51.000000")


def test_admin_pages(superuser, client):
    organization = make_org()
    make_contact(organization)
    client.force_login(superuser)
    for path in (
        "/admin/organizations/organization/",
        f"/admin/organizations/organization/{organization.pk}/change/",
        "/admin/organizations/contact/",
        "/admin/organizations/importjob/",
        "/admin/organizations/geocache/",
    ):
        assert client.get(path).status_code == 200, path
