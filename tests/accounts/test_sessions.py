"""Login, cookies, refresh rotation, logout, revocation and the 401 rules (api.md §1.2, §1.3, A2–A5)."""

import pytest
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import tokens
from accounts.models import User

from .conftest import PASSWORD, bearer, login

pytestmark = pytest.mark.django_db


def _cookie_attrs(response, name):
    morsel = response.cookies[name]
    return {
        "path": morsel["path"],
        "httponly": bool(morsel["httponly"]),
        "secure": bool(morsel["secure"]),
        "samesite": morsel["samesite"],
        "max-age": morsel["max-age"],
    }


@pytest.mark.sqlite
def test_login_sets_http_only_cookies_and_returns_no_tokens(api_client, operator, settings):
    response = login(api_client, "  Operator@Example.ORG ")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Login successful."
    assert body["user"]["email"] == "operator@example.org" and body["user"]["is_staff"] is True
    assert set(body["user"]) == {
        "id",
        "email",
        "first_name",
        "last_name",
        "full_name",
        "gender",
        "country",
        "profile_pic_url",
        "role",
        "date_joined",
        "updated_at",
        "is_staff",
        "last_login",
    }
    assert body["user"]["last_login"] is not None
    # Tokens only in Set-Cookie, never in the body.
    access, refresh = response.cookies["access_token"].value, response.cookies["refresh_token"].value
    assert access not in response.content.decode() and refresh not in response.content.decode()
    assert _cookie_attrs(response, "access_token") == {
        "path": "/",
        "httponly": True,
        "secure": True,
        "samesite": "Lax",
        "max-age": settings.JWT_ACCESS_TTL,
    }
    assert _cookie_attrs(response, "refresh_token") == {
        "path": "/api/auth",
        "httponly": True,
        "secure": True,
        "samesite": "Lax",
        "max-age": settings.JWT_REFRESH_TTL,
    }
    assert AccessToken(access)["tv"] == 0 and RefreshToken(refresh)["tv"] == 0
    assert AccessToken(access)["user_id"] == str(operator.pk)
    operator.refresh_from_db()
    assert operator.last_login is not None and (timezone.now() - operator.last_login).total_seconds() < 60


def test_cookie_flags_follow_settings(api_client, operator, settings):
    settings.AUTH_COOKIE_SECURE = False
    settings.AUTH_COOKIE_SAMESITE = "Strict"
    response = login(api_client, operator.email)
    assert _cookie_attrs(response, "access_token")["secure"] is False
    assert _cookie_attrs(response, "refresh_token")["samesite"] == "Strict"


@pytest.mark.parametrize(
    ("email", "password"),
    [
        ("operator@example.org", "wrong-password"),
        ("nobody@example.org", PASSWORD),
        ("inactive@example.org", PASSWORD),
    ],
)
def test_login_failures_are_indistinguishable(api_client, operator, make_user, email, password):
    make_user("inactive@example.org", is_active=False)
    response = login(api_client, email, password)
    assert response.status_code == 401
    assert response.json()["detail"] == "Invalid email or password."
    assert "access_token" not in response.cookies


def test_login_missing_fields_is_400(api_client):
    response = api_client.post("/api/auth/login/", {}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"email", "password"}


@pytest.mark.sqlite
def test_me_with_cookie_and_with_bearer(api_client, operator, logged_in):
    client = logged_in(operator)
    assert client.get("/api/auth/me/").json()["email"] == operator.email
    assert api_client.get("/api/auth/me/", **bearer(operator)).json()["id"] == str(operator.pk)


def test_cookie_wins_over_bearer_header(operator, normal_user, logged_in):
    """The header is a fallback, used only when no access_token cookie is sent (§1.3)."""
    client = logged_in(normal_user)
    assert client.get("/api/auth/me/", **bearer(operator)).json()["email"] == normal_user.email


def test_401_bodies(api_client, make_user):
    assert api_client.get("/api/auth/me/").json() == {
        "detail": "Authentication credentials were not provided."
    }

    garbage = api_client.get("/api/auth/me/", HTTP_AUTHORIZATION="Bearer not-a-jwt")
    assert garbage.status_code == 401
    assert garbage.json()["code"] == "token_not_valid" and "messages" in garbage.json()

    user = make_user("gone@example.org")
    header = bearer(user)
    user.is_active = False
    user.save()
    revoked = api_client.get("/api/auth/me/", **header)
    assert revoked.status_code == 401 and revoked.json()["code"] == "token_invalid"


def test_rejected_cookie_deletes_both_cookies(api_client):
    api_client.cookies["access_token"] = "garbage"
    api_client.cookies["refresh_token"] = "garbage"
    response = api_client.get("/api/auth/me/")
    assert response.status_code == 401
    for name, path in (("access_token", "/"), ("refresh_token", "/api/auth")):
        assert response.cookies[name].value == ""
        assert response.cookies[name]["max-age"] == 0 and response.cookies[name]["path"] == path


def test_missing_access_cookie_keeps_refresh_cookie(operator, logged_in):
    """An expired access cookie is simply absent: the 401 must not delete the refresh cookie needed to renew."""
    client = logged_in(operator)
    del client.cookies["access_token"]
    response = client.get("/api/auth/me/")
    assert response.status_code == 401 and "refresh_token" not in response.cookies


def test_bearer_401_does_not_touch_cookies(api_client):
    response = api_client.get("/api/auth/me/", HTTP_AUTHORIZATION="Bearer nonsense")
    assert response.status_code == 401 and "access_token" not in response.cookies


@pytest.mark.parametrize(
    "url", ["/api/auth/login/", "/api/auth/forgot-password/", "/api/auth/verify-otp/", "/api/health/"]
)
def test_public_endpoints_ignore_garbage_credentials(api_client, url):
    api_client.cookies["access_token"] = "garbage"
    if url == "/api/health/":
        response = api_client.get(url, HTTP_AUTHORIZATION="Bearer garbage")
    else:
        response = api_client.post(url, {}, format="json", HTTP_AUTHORIZATION="Bearer garbage")
    assert response.status_code not in (401, 403)


@pytest.mark.sqlite
def test_refresh_rotates_and_blacklists(operator, logged_in):
    client = logged_in(operator)
    old_refresh = client.cookies["refresh_token"].value
    response = client.post("/api/auth/token/refresh/")
    assert response.status_code == 200 and response.json() == {"message": "Token refreshed successfully."}
    new_refresh = response.cookies["refresh_token"].value
    assert new_refresh and new_refresh != old_refresh
    assert response.cookies["access_token"].value
    assert (
        BlacklistedToken.objects.filter(token__jti=RefreshToken(new_refresh, verify=False)["jti"]).count()
        == 0
    )
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(old_refresh, verify=False)["jti"]).exists()

    # The rotated-out token is dead: a replay gets 401 and loses its cookies.
    replay = APIClient()
    replay.cookies["refresh_token"] = old_refresh
    denied = replay.post("/api/auth/token/refresh/")
    assert denied.status_code == 401 and denied.json()["code"] == "token_not_valid"
    assert denied.cookies["refresh_token"].value == "" and denied.cookies["access_token"].value == ""
    # The new one works.
    assert client.post("/api/auth/token/refresh/").status_code == 200


def test_refresh_without_cookie_is_400(api_client):
    response = api_client.post("/api/auth/token/refresh/")
    assert response.status_code == 400
    assert response.json() == {"refresh_token": "Refresh token cookie not found. Please log in again."}


def test_refresh_rechecks_the_user(operator, logged_in):
    client = logged_in(operator)
    operator.is_active = False
    operator.save()
    response = client.post("/api/auth/token/refresh/")
    assert response.status_code == 401 and response.json()["code"] == "token_invalid"
    assert response.cookies["access_token"].value == ""


def test_refresh_with_stale_token_version_is_401(operator, logged_in):
    client = logged_in(operator)
    User.objects.filter(pk=operator.pk).update(token_version=5)
    response = client.post("/api/auth/token/refresh/")
    assert response.status_code == 401 and response.json()["code"] == "token_invalid"


def test_refresh_cookie_is_not_an_access_token(api_client, operator):
    pair = tokens.issue_tokens(operator)
    assert api_client.get("/api/auth/me/", HTTP_AUTHORIZATION=f"Bearer {pair.refresh}").status_code == 401


@pytest.mark.sqlite
def test_logout_needs_only_the_refresh_cookie(operator, logged_in):
    client = logged_in(operator)
    refresh = client.cookies["refresh_token"].value
    client.cookies["access_token"] = "expired-or-garbage"
    response = client.post("/api/auth/logout/")
    assert response.status_code == 200 and response.json() == {"message": "Logout successful."}
    assert response.cookies["access_token"].value == "" and response.cookies["refresh_token"].value == ""
    assert response.cookies["refresh_token"]["path"] == "/api/auth"
    assert BlacklistedToken.objects.filter(token__jti=RefreshToken(refresh, verify=False)["jti"]).exists()
    replay = APIClient()
    replay.cookies["refresh_token"] = refresh
    assert replay.post("/api/auth/token/refresh/").status_code == 401


def test_logout_without_cookie_is_400(api_client):
    response = api_client.post("/api/auth/logout/")
    assert response.status_code == 400
    assert response.json()["detail"] == "Refresh token not found. You may already be logged out."


def test_logout_all_sessions_revokes_every_token(operator, logged_in):
    first, second = logged_in(operator), logged_in(operator)
    other_access_header = bearer(operator)
    response = first.post("/api/auth/logout/", {"all_sessions": True}, format="json")
    assert response.status_code == 200
    operator.refresh_from_db()
    assert operator.token_version == 1
    assert second.post("/api/auth/token/refresh/").status_code == 401
    assert second.cookies["refresh_token"].value == ""  # the rejected cookies were deleted
    assert APIClient().get("/api/auth/me/", **other_access_header).status_code == 401
    assert not OutstandingToken.objects.filter(user=operator, blacklistedtoken__isnull=True).exists()


def test_logout_single_session_leaves_others(operator, logged_in):
    first, second = logged_in(operator), logged_in(operator)
    assert first.post("/api/auth/logout/").status_code == 200
    assert second.get("/api/auth/me/").status_code == 200
    assert second.post("/api/auth/token/refresh/").status_code == 200


def test_deactivation_bumps_token_version(operator):
    operator.is_active = False
    operator.save(update_fields=["is_active"])
    operator.refresh_from_db()
    assert operator.token_version == 1
