"""The CSRF rule of api.md §1.4 for cookie-authenticated unsafe requests, and always for login."""

import pytest
from rest_framework.test import APIClient

from .conftest import PASSWORD, bearer

pytestmark = pytest.mark.django_db

FAILED = {"detail": "CSRF check failed.", "code": "csrf_failed"}
OWN = "http://testserver"

# (headers, passes) — evaluated in order: Sec-Fetch-Site, Origin, Referer, nothing.
CASES = [
    ({"HTTP_SEC_FETCH_SITE": "same-origin"}, True),
    ({"HTTP_SEC_FETCH_SITE": "none"}, True),
    ({"HTTP_SEC_FETCH_SITE": "same-origin", "HTTP_ORIGIN": "https://evil.example"}, True),
    ({"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://evil.example"}, False),
    ({"HTTP_SEC_FETCH_SITE": "same-site", "HTTP_ORIGIN": "https://sub.testserver"}, False),
    ({"HTTP_SEC_FETCH_SITE": "cross-site"}, False),  # no Origin to vouch for it
    ({"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://app.example.org"}, True),  # trusted
    ({"HTTP_SEC_FETCH_SITE": "cross-site", "HTTP_ORIGIN": "https://crm.example.net"}, True),  # CORS-allowed
    ({"HTTP_ORIGIN": OWN}, True),
    ({"HTTP_ORIGIN": "http://TESTSERVER:80"}, True),  # normalised: case and default port
    ({"HTTP_ORIGIN": "http://testserver:8080"}, False),
    ({"HTTP_ORIGIN": "null"}, False),
    ({"HTTP_ORIGIN": "https://evil.example"}, False),
    ({"HTTP_ORIGIN": "https://x.partner.example.com"}, True),  # wildcard entry
    ({"HTTP_ORIGIN": "https://partner.example.com.evil.example"}, False),
    ({"HTTP_REFERER": f"{OWN}/dashboard/?q=1"}, True),
    ({"HTTP_REFERER": "https://app.example.org/some/page"}, True),
    ({"HTTP_REFERER": "https://evil.example/testserver"}, False),
    ({"HTTP_REFERER": "not a url"}, False),
    ({"HTTP_ORIGIN": "https://evil.example", "HTTP_REFERER": f"{OWN}/"}, False),  # Origin decides first
    ({}, True),  # non-browser client
]


@pytest.fixture(autouse=True)
def _trusted(settings):
    settings.CSRF_TRUSTED_ORIGINS = ["https://app.example.org", "https://*.partner.example.com"]
    settings.CORS_ALLOWED_ORIGINS = ["https://crm.example.net"]


@pytest.mark.sqlite
@pytest.mark.parametrize(("headers", "passes"), CASES)
def test_cookie_authenticated_write(operator, logged_in, headers, passes):
    client = logged_in(operator)
    response = client.post("/api/auth/activity/mark-read/", {}, format="json", **headers)
    if passes:
        assert response.status_code == 200, response.content
    else:
        assert response.status_code == 403 and response.json() == FAILED


@pytest.mark.parametrize(("headers", "passes"), CASES)
def test_login_is_always_checked(api_client, operator, headers, passes):
    response = api_client.post(
        "/api/auth/login/", {"email": operator.email, "password": PASSWORD}, format="json", **headers
    )
    if passes:
        assert response.status_code == 200
    else:
        assert response.status_code == 403 and response.json() == FAILED
        assert "access_token" not in response.cookies


def test_require_origin_refuses_header_less_cookie_writes(operator, logged_in, settings):
    client = logged_in(operator)
    settings.CSRF_REQUIRE_ORIGIN = True
    assert client.post("/api/auth/activity/mark-read/", {}, format="json").status_code == 403
    assert client.post("/api/auth/activity/mark-read/", {}, format="json", HTTP_ORIGIN=OWN).status_code == 200


def test_bearer_clients_are_never_checked(operator):
    client = APIClient()
    client.cookies["access_token"] = "stale"  # even with a cookie, the header exempts the request
    response = client.post(
        "/api/auth/activity/mark-read/",
        {},
        format="json",
        HTTP_ORIGIN="https://evil.example",
        HTTP_SEC_FETCH_SITE="cross-site",
        **bearer(operator),
    )
    assert response.status_code != 403


def test_safe_methods_are_not_checked(operator, logged_in):
    client = logged_in(operator)
    response = client.get(
        "/api/auth/me/", HTTP_ORIGIN="https://evil.example", HTTP_SEC_FETCH_SITE="cross-site"
    )
    assert response.status_code == 200


def test_requests_without_auth_cookies_are_not_checked(api_client):
    response = api_client.post(
        "/api/auth/forgot-password/",
        {"email": "someone@example.org"},
        format="json",
        HTTP_ORIGIN="https://evil.example",
    )
    assert response.status_code == 200


@pytest.mark.parametrize("url", ["/api/auth/logout/", "/api/auth/token/refresh/"])
def test_refresh_cookie_endpoints_are_checked(operator, logged_in, url):
    """Cross-site logout/refresh would ride on the refresh cookie: checked too, and the session survives."""
    client = logged_in(operator)
    response = client.post(url, HTTP_ORIGIN="https://evil.example")
    assert response.status_code == 403 and response.json() == FAILED
    assert client.post("/api/auth/token/refresh/", HTTP_ORIGIN=OWN).status_code == 200


def test_public_base_url_is_trusted(operator, logged_in, settings):
    settings.PUBLIC_BASE_URL = "https://cv.example.org"
    client = logged_in(operator)
    response = client.post(
        "/api/auth/activity/mark-read/", {}, format="json", HTTP_ORIGIN="https://cv.example.org"
    )
    assert response.status_code == 200
