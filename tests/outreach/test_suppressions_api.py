"""Suppression list API (api.md §5.6)."""

import uuid

import pytest

from outreach.models import Suppression

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
URL = "/api/outreach/suppressions/"


@pytest.fixture
def entries(db):
    return {
        reason: Suppression.objects.create(email=f"{reason}@school.sch.uk", reason=reason, source="test")
        for reason in ("unsubscribe", "bounce", "spam_report", "manual")
    }


def test_operator_only(api_client, entries):
    assert api_client.get(URL).status_code == 401
    assert api_client.post(URL, {"email": "a@b.c"}).status_code == 401
    assert api_client.delete(f"{URL}{entries['manual'].pk}/").status_code == 401


def test_list_envelope_with_search_and_reason(operator_client, entries):
    body = operator_client.get(URL).json()
    assert body["pagination"]["total"] == 4
    assert set(body["results"][0]) == {"id", "email", "reason", "source", "note", "created_at"}
    assert [r["email"] for r in operator_client.get(URL + "?search=BOUNCE").json()["results"]] == [
        "bounce@school.sch.uk"
    ]
    assert [r["reason"] for r in operator_client.get(URL + "?reason=spam_report").json()["results"]] == [
        "spam_report"
    ]
    response = operator_client.get(URL + "?reason=annoyed")
    assert response.status_code == 400 and "reason" in response.json()


def test_add_is_manual_lower_cased_and_existing_returns_200(operator_client, entries):
    response = operator_client.post(
        URL, {"email": " New.Head@School.SCH.uk ", "note": "asked by phone"}, format="json"
    )
    assert response.status_code == 201
    data = response.json()
    assert (data["email"], data["reason"], data["source"], data["note"]) == (
        "new.head@school.sch.uk",
        "manual",
        "operator",
        "asked by phone",
    )
    again = operator_client.post(URL, {"email": "NEW.HEAD@school.sch.uk"}, format="json")
    assert again.status_code == 200 and again.json()["id"] == data["id"]
    existing = operator_client.post(URL, {"email": "Unsubscribe@School.sch.uk"}, format="json")
    assert existing.status_code == 200 and existing.json()["reason"] == "unsubscribe"
    for bad in ({"email": "not-an-address"}, {}, {"email": "a@b.c", "note": "x" * 2001}):
        assert operator_client.post(URL, bad, format="json").status_code == 400


def test_delete_manual_and_bounce_only(operator_client, entries):
    for reason in ("manual", "bounce"):
        response = operator_client.delete(f"{URL}{entries[reason].pk}/")
        assert response.status_code == 200 and response.json() == {"detail": "Suppression removed."}
    for reason in ("unsubscribe", "spam_report"):
        response = operator_client.delete(f"{URL}{entries[reason].pk}/")
        assert response.status_code == 409
        assert response.json() == {
            "detail": "Unsubscribe and spam-report suppressions cannot be removed.",
            "code": "suppression_locked",
        }
    assert set(Suppression.objects.values_list("reason", flat=True)) == {"unsubscribe", "spam_report"}
    for missing in (uuid.uuid4(), "nope"):
        response = operator_client.delete(f"{URL}{missing}/")
        assert response.status_code == 404 and response.json() == {"detail": "Suppression not found."}
