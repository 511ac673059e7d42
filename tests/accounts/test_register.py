"""A1 register: off by default (superuser only), public with ALLOW_SIGNUP, never grants operator rights."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import User

from .conftest import bearer, image_bytes

pytestmark = pytest.mark.django_db

URL = "/api/auth/register/"


def payload(**overrides):
    data = {
        "email": "  New.Teacher@Example.ORG ",
        "first_name": "Nadia",
        "last_name": "Newman",
        "password": "Blue-kettle-42-morning",
        "password_confirm": "Blue-kettle-42-morning",
    }
    data.update(overrides)
    return data


@pytest.mark.sqlite
def test_signup_off_anonymous_is_401_and_operator_403(api_client, operator):
    response = api_client.post(URL, payload(), format="json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    response = api_client.post(URL, payload(), format="json", **bearer(operator))
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}
    assert not User.objects.filter(email="new.teacher@example.org").exists()


@pytest.mark.sqlite
def test_superuser_creates_operator_and_keeps_own_session(superuser, logged_in):
    client = logged_in(superuser)
    own_access = client.cookies["access_token"].value
    response = client.post(URL, payload(), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["message"] == "Registration successful."
    assert body["user"]["email"] == "new.teacher@example.org"
    assert body["user"]["role"] == "normaluser" and body["user"]["is_staff"] is True
    assert "access_token" not in response.cookies and "refresh_token" not in response.cookies
    assert client.cookies["access_token"].value == own_access
    created = User.objects.get(email="new.teacher@example.org")
    assert created.check_password("Blue-kettle-42-morning")


def test_superuser_may_set_role_and_is_staff(api_client, superuser):
    response = api_client.post(URL, payload(is_staff=False), format="json", **bearer(superuser))
    assert response.status_code == 201 and response.json()["user"]["is_staff"] is False
    response = api_client.post(
        URL, payload(email="boss@example.org", role="superuser"), format="json", **bearer(superuser)
    )
    assert response.status_code == 201
    assert response.json()["user"]["role"] == "superuser" and response.json()["user"]["is_staff"] is True


@pytest.mark.sqlite
def test_self_registration_when_enabled(api_client, settings):
    settings.ALLOW_SIGNUP = True
    api_client.cookies["access_token"] = "garbage"  # public: a bad cookie never causes a 401
    response = api_client.post(URL, payload(role="superuser", is_staff=True), format="json")
    assert response.status_code == 201, response.content
    user = User.objects.get(email="new.teacher@example.org")
    assert user.role == "normaluser" and user.is_staff is False and not user.is_operator
    assert response.cookies["access_token"].value and response.cookies["refresh_token"].value
    # Signed in, but with no operator access until promoted.
    me = api_client.get("/api/auth/me/")
    assert me.status_code == 200 and me.json()["email"] == user.email
    assert api_client.get("/api/auth/activity/").status_code == 403


def test_signup_enabled_superuser_still_recognised(api_client, superuser, settings):
    settings.ALLOW_SIGNUP = True
    response = api_client.post(URL, payload(role="superuser"), format="json", **bearer(superuser))
    assert response.status_code == 201 and response.json()["user"]["role"] == "superuser"
    assert "access_token" not in response.cookies


def test_email_unique_case_insensitively(api_client, superuser, make_user):
    make_user("new.teacher@example.org")
    response = api_client.post(URL, payload(), format="json", **bearer(superuser))
    assert response.status_code == 400
    assert response.json() == {"email": ["A user with this email already exists."]}


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password_confirm": "Something-else-77"}, "password"),
        ({"password": "Newman123", "password_confirm": "Newman123"}, "password"),  # similar to a name
        ({"password": "new.teacher1", "password_confirm": "new.teacher1"}, "password"),  # similar to e-mail
        ({"password": "12345678", "password_confirm": "12345678"}, "password"),
        ({"email": "not-an-email"}, "email"),
        ({"first_name": ""}, "first_name"),
        ({"first_name": "x" * 101}, "first_name"),
        ({"gender": "robot"}, "gender"),
        ({"role": "god"}, "role"),
    ],
)
def test_validation_errors(api_client, superuser, overrides, field):
    response = api_client.post(URL, payload(**overrides), format="json", **bearer(superuser))
    assert response.status_code == 400
    assert field in response.json()


def test_register_with_profile_picture(superuser):
    client = APIClient()
    data = payload()
    data["profile_pic"] = SimpleUploadedFile("me.png", image_bytes("PNG"), content_type="image/png")
    response = client.post(URL, data, format="multipart", **bearer(superuser))
    assert response.status_code == 201, response.content
    user = User.objects.get(email="new.teacher@example.org")
    assert user.profile_pic.startswith(f"profile-pictures/{user.pk}/") and user.profile_pic.endswith(".png")
    assert response.json()["user"]["profile_pic_url"]


def test_register_rejects_a_non_image(superuser):
    data = payload()
    data["profile_pic"] = SimpleUploadedFile("me.jpg", b"%PDF-1.7 not an image", content_type="image/jpeg")
    response = APIClient().post(URL, data, format="multipart", **bearer(superuser))
    assert response.status_code == 400 and "profile_pic" in response.json()
    assert not User.objects.filter(email="new.teacher@example.org").exists()
