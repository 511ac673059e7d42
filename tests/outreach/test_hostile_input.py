"""Client input never produces a 500 (api.md §1.6) on any outreach endpoint."""

import json

import pytest
from django.core.cache import cache

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]

BODIES = [
    "null",
    "[]",
    "[1, 2]",
    '"text"',
    "{}",
    '{"contact_ids": null}',
    '{"contact_ids": [[]]}',
    '{"contact_ids": [{"id": 1}]}',
    '{"contact_ids": ["00000000-0000-0000-0000-000000000000"], "subject": ["x"], "body": {"a": 1}}',
    '{"contact_ids": ["00000000-0000-0000-0000-000000000000"], "force": null}',
    '{"contact_ids": "' + "x" * 5000 + '"}',
    "{not json",
    '{"subject": "\\u0000\\ud800"}',
]


@pytest.mark.parametrize("body", BODIES)
def test_send_to_contacts(operator_client, candidate, body, monkeypatch):
    from outreach import tasks

    monkeypatch.setattr(tasks.send_outreach, "delay", lambda *a: None)
    response = operator_client.post(
        f"/api/candidates/{candidate.pk}/send-to-contacts/", body, content_type="application/json"
    )
    assert response.status_code < 500, response.content


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"[]",
        b"{}",
        b"null",
        b"[null, 1, []]",
        b'[{"event": ["x"], "email": {}, "timestamp": "soon"}]',
        b'[{"event": "bounce", "email": "a\\u0000@b.c", "sg_event_id": "\\u0000x", "timestamp": 1e400}]',
        b"\xff\xfe",
    ],
)
def test_delivery_events(client, settings, body):
    settings.EMAIL_WEBHOOK_VERIFIER = "hmac"
    settings.EMAIL_WEBHOOK_SECRET = "k" * 40
    import hashlib
    import hmac
    import time

    ts = str(int(time.time()))
    digest = hmac.new(
        settings.EMAIL_WEBHOOK_SECRET.encode(), f"{ts}.".encode() + body, hashlib.sha256
    ).hexdigest()
    for signature in (f"sha256={digest}", "garbage", ""):
        response = client.generic(
            "POST",
            "/api/outreach/events/",
            body,
            content_type="application/json",
            HTTP_X_WEBHOOK_SIGNATURE=signature,
            HTTP_X_WEBHOOK_TIMESTAMP=ts,
        )
        assert response.status_code in (200, 400, 403), response.content
    for ts_value in ("", "abc", "9" * 40, "-1"):
        response = client.generic(
            "POST",
            "/api/outreach/events/",
            body,
            content_type="application/json",
            HTTP_X_WEBHOOK_SIGNATURE="sha256=00",
            HTTP_X_WEBHOOK_TIMESTAMP=ts_value,
        )
        assert response.status_code == 403


@pytest.mark.parametrize("token", ["x" * 5000, "%00", "a:b:c", ".eJw:abc", "eyJlIjpbMV19:sig"])
def test_unsubscribe(client, token):
    cache.clear()
    for method in ("get", "post"):
        response = getattr(client, method)(
            f"/api/outreach/unsubscribe/{token}/", HTTP_ACCEPT="application/json"
        )
        assert response.status_code == 404, response.content


@pytest.mark.parametrize(
    "query",
    [
        "search=%00",
        "page=0",
        "page=abc",
        "page_size=-1",
        "status=%00",
        "contact_id=" + "1" * 100,
        "delivery_status[]=x",
    ],
)
def test_history_and_suppression_queries(operator_client, candidate, query):
    for url in (f"/api/candidates/{candidate.pk}/outreach/", "/api/outreach/suppressions/"):
        assert operator_client.get(f"{url}?{query}").status_code < 500
    body = json.dumps({"email": ["a@b.c"], "note": None})
    response = operator_client.post("/api/outreach/suppressions/", body, content_type="application/json")
    assert response.status_code == 400
