"""Rate limits of api.md §1.5: per IP and per account, atomic cache counters, 429 + Retry-After."""

import threading

import pytest
from django.db import close_old_connections
from rest_framework.test import APIClient, APIRequestFactory

from accounts import throttles

from .conftest import PASSWORD, bearer, login

pytestmark = pytest.mark.django_db


def assert_throttled(response, max_wait):
    assert response.status_code == 429, response.content
    body = response.json()
    assert body["detail"] and 0 < body["retry_after"] <= max_wait
    assert response["Retry-After"] == str(body["retry_after"])
    return body


@pytest.mark.sqlite
def test_login_per_ip(api_client, settings):
    settings.ACCOUNTS_THROTTLES = {**settings.ACCOUNTS_THROTTLES, "login_ip": (3, 600)}
    for i in range(3):
        assert login(api_client, f"user{i}@example.org", "wrong").status_code == 401
    assert_throttled(login(api_client, "user9@example.org", "wrong"), 600)
    # Another IP is unaffected.
    assert login(api_client, "user9@example.org", "wrong", REMOTE_ADDR="10.1.2.3").status_code == 401


@pytest.mark.sqlite
def test_login_per_account_failures_then_success_resets(operator):
    for n in range(5):  # from different IPs: the account counter is what stops them
        assert login(APIClient(), operator.email, "wrong", REMOTE_ADDR=f"10.0.0.{n}").status_code == 401
    # Even the right password is refused while the account is locked.
    assert_throttled(login(APIClient(), operator.email, PASSWORD, REMOTE_ADDR="10.0.1.1"), 900)
    assert_throttled(login(APIClient(), "OPERATOR@example.org", PASSWORD, REMOTE_ADDR="10.0.1.2"), 900)
    throttles.reset("login_account_failures", operator.email)
    for _ in range(4):
        login(APIClient(), operator.email, "wrong")
    assert login(APIClient(), operator.email, PASSWORD).status_code == 200  # success resets the count
    for _ in range(4):
        assert login(APIClient(), operator.email, "wrong").status_code == 401


def test_login_account_limit_applies_to_unknown_accounts(api_client):
    for _ in range(5):
        assert login(api_client, "ghost@example.org", "wrong").status_code == 401
    assert_throttled(login(api_client, "ghost@example.org", "wrong"), 900)


def test_register_per_ip_when_public(api_client, settings):
    settings.ALLOW_SIGNUP = True
    settings.ACCOUNTS_THROTTLES = {**settings.ACCOUNTS_THROTTLES, "register_ip": (2, 3600)}
    for _ in range(2):
        assert api_client.post("/api/auth/register/", {}, format="json").status_code == 400
    assert_throttled(api_client.post("/api/auth/register/", {}, format="json"), 3600)


def test_token_refresh_per_ip(api_client, settings):
    settings.ACCOUNTS_THROTTLES = {**settings.ACCOUNTS_THROTTLES, "token_refresh_ip": (2, 60)}
    for _ in range(2):
        assert api_client.post("/api/auth/token/refresh/").status_code == 400
    assert_throttled(api_client.post("/api/auth/token/refresh/"), 60)


def test_verify_and_reset_per_ip(api_client, settings):
    settings.ACCOUNTS_THROTTLES = {
        **settings.ACCOUNTS_THROTTLES,
        "verify_otp_ip": (2, 600),
        "reset_password_ip": (1, 600),
    }
    body = {"email": "a@example.org", "otp": "123456"}
    for _ in range(2):
        assert api_client.post("/api/auth/verify-otp/", body, format="json").status_code == 400
    assert_throttled(api_client.post("/api/auth/verify-otp/", body, format="json"), 600)
    assert api_client.post("/api/auth/reset-password/", {}, format="json").status_code == 400
    assert_throttled(api_client.post("/api/auth/reset-password/", {}, format="json"), 600)


def test_forgot_password_per_ip(api_client, settings):
    settings.ACCOUNTS_THROTTLES = {**settings.ACCOUNTS_THROTTLES, "forgot_password_ip": (2, 3600)}
    for n in range(2):
        response = api_client.post(
            "/api/auth/forgot-password/", {"email": f"u{n}@example.org"}, format="json"
        )
        assert response.status_code == 200
    body = assert_throttled(
        api_client.post("/api/auth/forgot-password/", {"email": "u9@example.org"}, format="json"), 3600
    )
    assert body["remaining_requests"] == 0


def test_password_update_wrong_old_password(operator):
    client = APIClient()
    header = bearer(operator)
    data = {
        "old_password": "wrong",
        "new_password": "Fresh-harbour-93",
        "new_password_confirm": "Fresh-harbour-93",
    }
    for _ in range(5):
        response = client.post("/api/auth/password/update/", data, format="json", **header)
        assert response.status_code == 400 and "old_password" in response.json()
    data["old_password"] = PASSWORD
    assert_throttled(client.post("/api/auth/password/update/", data, format="json", **header), 900)


def _request(remote="203.0.113.9", forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return APIRequestFactory().get("/", **extra)


@pytest.mark.sqlite
def test_client_ip_uses_forwarded_for_only_behind_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert throttles.client_ip(_request(forwarded="198.51.100.7")) == "203.0.113.9"
    settings.TRUSTED_PROXY_COUNT = 1
    # A client can prepend anything; the entry the proxy appended (rightmost) is the real client.
    assert throttles.client_ip(_request(forwarded="1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    settings.TRUSTED_PROXY_COUNT = 2
    assert throttles.client_ip(_request(forwarded="1.2.3.4, 198.51.100.7, 10.0.0.2")) == "198.51.100.7"
    assert throttles.client_ip(_request(forwarded="198.51.100.7")) == "203.0.113.9"  # chain too short
    settings.TRUSTED_PROXY_COUNT = 1
    assert throttles.client_ip(_request(forwarded="1.2.3.4, not-an-ip")) == "203.0.113.9"
    assert throttles.client_ip(_request(forwarded="2001:db8::1")) == "2001:db8::1"


def test_forwarded_for_separates_clients_behind_a_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.ACCOUNTS_THROTTLES = {**settings.ACCOUNTS_THROTTLES, "login_ip": (1, 600)}
    client = APIClient()
    assert login(client, "a@example.org", "x", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 401
    assert login(client, "a@example.org", "x", HTTP_X_FORWARDED_FOR="198.51.100.1").status_code == 429
    assert login(client, "b@example.org", "x", HTTP_X_FORWARDED_FOR="198.51.100.2").status_code == 401
    # Spoofing a left-hand entry does not escape the limit.
    spoofed = login(client, "c@example.org", "x", HTTP_X_FORWARDED_FOR="9.9.9.9, 198.51.100.1")
    assert spoofed.status_code == 429


def test_counters_are_atomic_under_concurrency():
    """Many threads hitting one counter get distinct counts: no lost updates (Redis INCR in this profile)."""
    results, barrier = [], threading.Barrier(16)

    def worker():
        barrier.wait()
        results.append(throttles.hit("login_ip", "198.51.100.50")[0])
        close_old_connections()

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == list(range(1, 17))


@pytest.mark.sqlite
def test_unsubscribe_throttle_class():
    throttle = throttles.UnsubscribeThrottle()
    request = _request(remote="192.0.2.77")
    assert all(throttle.allow_request(request, None) for _ in range(30))
    assert throttle.allow_request(request, None) is False
    assert 0 < throttle.wait() <= 60
    assert throttles.UnsubscribeThrottle().allow_request(_request(remote="192.0.2.78"), None)
