"""One-click unsubscribe (api.md §5.4, RFC 8058)."""

import re

import pytest
from django.core.cache import cache

from outreach import services
from outreach.models import Suppression
from outreach.unsubscribe import make_token, mask_email, read_token, unsubscribe_url

from .conftest import parse

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


@pytest.fixture(autouse=True)
def _fresh_throttle():
    cache.clear()
    yield
    cache.clear()


def _url(address):
    return f"/api/outreach/unsubscribe/{make_token(address)}/"


def test_token_is_signed_non_expiring_and_carries_only_the_address():
    token = make_token("Head@School.sch.uk")
    assert read_token(token) == "head@school.sch.uk"
    assert read_token(token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]) is None
    assert read_token("head@school.sch.uk") is None and read_token("") is None
    # Another salt (another signed-link kind) is not accepted.
    from django.core import signing

    assert read_token(signing.Signer(salt="cvengine.files").sign_object({"e": "a@b.c"})) is None
    assert unsubscribe_url("a@b.c").startswith("https://cv.agency.example/api/outreach/unsubscribe/")
    assert mask_email("Jane.Doe@School.org.uk") == "j***@school.org.uk"


def test_get_shows_a_confirmation_page_and_changes_nothing(client):
    response = client.get(_url("jane@school.org.uk"), HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "j***@school.org.uk" in page and "jane@school.org.uk" not in page
    assert re.search(r'<form method="post"', page) and "List-Unsubscribe" in page
    response = client.get(_url("jane@school.org.uk"), HTTP_ACCEPT="application/json")
    assert response.json() == {
        "detail": "Confirm to unsubscribe.",
        "email": "j***@school.org.uk",
        "unsubscribed": False,
    }
    assert Suppression.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ("List-Unsubscribe=One-Click", "application/x-www-form-urlencoded"),
        ("", "text/plain"),
        ("\x00\xff not json", "application/json"),
        ("--x\r\n", "multipart/form-data; boundary=x"),
    ],
)
def test_post_suppresses_for_any_body_and_is_idempotent(client, body, content_type):
    url = _url("Jane@School.org.uk")
    for _ in range(2):
        response = client.post(url, body, content_type=content_type, HTTP_ACCEPT="application/json")
        assert response.status_code == 200
        assert response.json() == {
            "detail": "You have been unsubscribed.",
            "email": "j***@school.org.uk",
            "unsubscribed": True,
        }
    entry = Suppression.objects.get()
    assert (entry.email, entry.reason, entry.source) == (
        "jane@school.org.uk",
        "unsubscribe",
        "unsubscribe link",
    )


def test_post_ignores_cookies_and_csrf_and_shows_a_page_by_default(client):
    client.cookies["access_token"] = "garbage"
    client.cookies["csrftoken"] = "x"
    response = client.post(
        _url("jane@school.org.uk"),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
        HTTP_ORIGIN="https://evil.example",
        HTTP_SEC_FETCH_SITE="cross-site",
    )
    assert response.status_code == 200 and "You have been unsubscribed" in response.content.decode()
    assert Suppression.objects.filter(reason="unsubscribe").count() == 1


def test_unsubscribe_locks_an_earlier_manual_entry(client):
    Suppression.objects.create(email="jane@school.org.uk", reason="manual", source="operator")
    client.post(_url("jane@school.org.uk"))
    assert Suppression.objects.get().reason == "unsubscribe"


@pytest.mark.parametrize("token", ["nonsense", "eyJlIjoiYUBiLmMifQ:forged", make_token("a@b.c")[:-1]])
def test_invalid_token_is_404(client, token):
    url = f"/api/outreach/unsubscribe/{token}/"
    response = client.get(url, HTTP_ACCEPT="application/json")
    assert response.status_code == 404 and response.json()["code"] == "invalid_token"
    assert client.post(url, HTTP_ACCEPT="application/json").status_code == 404
    assert client.get(url).status_code == 404 and "not valid" in client.get(url).content.decode()
    assert Suppression.objects.count() == 0


def test_throttled_at_30_per_minute_per_ip(client):
    url = _url("jane@school.org.uk")
    for _ in range(30):
        assert client.get(url, HTTP_ACCEPT="application/json", REMOTE_ADDR="203.0.113.9").status_code == 200
    response = client.post(url, HTTP_ACCEPT="application/json", REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 429 and int(response["Retry-After"]) > 0
    assert response.json()["retry_after"] > 0
    assert client.get(url, HTTP_ACCEPT="application/json", REMOTE_ADDR="203.0.113.10").status_code == 200


def test_link_in_a_sent_email_unsubscribes_the_recipient(
    client, candidate, make_contacts, smtp_settings, start_job
):
    (contact,) = make_contacts(1)
    services.run_outreach_job(start_job(candidate, [contact]))
    header = parse(smtp_settings.messages[0])["List-Unsubscribe"]
    path = re.fullmatch(r"<https://cv\.agency\.example(/api/outreach/unsubscribe/[^>]+)>", header).group(1)
    # What a mail client does for RFC 8058 one-click:
    response = client.post(
        path, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 200
    assert Suppression.objects.get().email == contact.work_email
    # The next send skips the address.
    job_id = start_job(candidate, [contact], force=True)
    services.run_outreach_job(job_id)
    assert len(smtp_settings.messages) == 1
