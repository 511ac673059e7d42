import io
import re
import uuid

import pytest
from django.core import mail
from PIL import Image
from rest_framework.test import APIClient

from accounts import throttles, tokens

PASSWORD = "S3cure-pass-phrase!"


@pytest.fixture(autouse=True)
def _fresh_throttle_counters(monkeypatch):
    """Each test gets its own counter namespace (never cache.clear(): the Redis cache is shared by runs)."""
    monkeypatch.setattr(throttles, "KEY_PREFIX", f"throttle-test-{uuid.uuid4().hex}")


@pytest.fixture
def normal_user(make_user):
    """An active account without operator access (self-registered shape)."""
    return make_user("nora@example.org", first_name="Nora", last_name="Normal")


def bearer(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {tokens.issue_tokens(user).access}"}


def login(client: APIClient, email: str, password: str = PASSWORD, **extra):
    return client.post("/api/auth/login/", {"email": email, "password": password}, format="json", **extra)


@pytest.fixture
def logged_in(db):
    """``logged_in(user)`` → an APIClient holding the cookies of a real login."""

    def make(user, password=PASSWORD):
        client = APIClient()
        response = login(client, user.email, password)
        assert response.status_code == 200, response.content
        return client

    return make


@pytest.fixture
def request_otp(eager_celery, django_capture_on_commit_callbacks):
    """``request_otp(client, email)`` → (response, code or None): runs forgot-password with the e-mail task
    executed inline and reads the code from the sent mail."""

    def run(client, email):
        before = len(mail.outbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/auth/forgot-password/", {"email": email}, format="json")
        sent = mail.outbox[before:]
        code = re.search(r"\b(\d{6})\b", sent[-1].body).group(1) if sent else None
        return response, code

    return run


def image_bytes(fmt="JPEG", size=(64, 48), mode="RGB", **save_kwargs) -> bytes:
    image = Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128))
    out = io.BytesIO()
    image.save(out, format=fmt, **save_kwargs)
    return out.getvalue()


def exif_with_gps() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0112] = 6  # Orientation: rotate 90° clockwise to display upright
    exif[0x8825] = {1: "N", 2: (51.0, 30.0, 0.0)}  # GPS latitude
    return exif.tobytes()
