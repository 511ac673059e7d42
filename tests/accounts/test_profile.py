"""A5–A7: me, profile update with a private, re-encoded picture, password change revoking other sessions."""

import io

import httpx
import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User

from .conftest import PASSWORD, bearer, exif_with_gps, image_bytes, login

pytestmark = pytest.mark.django_db

URL = "/api/auth/profile/update/"


def upload(data: bytes, name="pic.jpg", content_type="image/jpeg"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def patch_picture(client, data, **kwargs):
    return client.patch(URL, {"profile_pic": upload(data, **kwargs)}, format="multipart")


@pytest.fixture
def client(operator):
    api = APIClient()
    api.credentials(**bearer(operator))
    return api


@pytest.mark.sqlite
def test_partial_update_ignores_protected_fields(client, operator):
    response = client.patch(
        URL,
        {
            "first_name": "Olivia",
            "country": "Wales",
            "email": "x@evil.example",
            "role": "superuser",
            "is_staff": False,
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Profile updated successfully."
    assert body["data"]["first_name"] == "Olivia" and body["data"]["full_name"] == "Olivia Operator"
    operator.refresh_from_db()
    assert (operator.email, operator.role, operator.is_staff) == ("operator@example.org", "normaluser", True)
    assert operator.last_name == "Operator" and operator.country == "Wales"


def test_update_validation(client):
    assert client.patch(URL, {"gender": "robot"}, format="json").status_code == 400
    assert client.patch(URL, {"first_name": "x" * 101}, format="json").status_code == 400
    assert client.put(URL, {}, format="json").status_code == 405


@pytest.mark.sqlite
def test_picture_is_reencoded_without_metadata_and_stored_privately(client, operator):
    original = image_bytes("JPEG", size=(80, 40), exif=exif_with_gps(), comment=b"secret note")
    response = patch_picture(client, original)
    assert response.status_code == 200, response.content
    operator.refresh_from_db()
    name = operator.profile_pic
    assert name.startswith(f"profile-pictures/{operator.pk}/") and name.endswith(".jpg")
    with default_storage.open(name, "rb") as handle:
        stored = handle.read()
    assert stored != original and b"SpyCam" not in stored and b"secret note" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and not image.getexif() and "icc_profile" not in image.info
    assert image.size == (40, 80)  # EXIF orientation applied before the metadata was dropped
    url = response.json()["data"]["profile_pic_url"]
    assert url and url == url.strip()
    assert "X-Amz-Signature=" in url or "/api/files/" in url  # a signed, expiring link


def test_picture_url_serves_the_file_and_bucket_is_private(client, operator, settings):
    if settings.STORAGE_BACKEND != "s3":
        pytest.skip("S3 signing is exercised in the services profile; local links in test_local_files")
    response = patch_picture(client, image_bytes("PNG"), name="p.png", content_type="image/png")
    url = response.json()["data"]["profile_pic_url"]
    assert httpx.get(url, timeout=10).status_code == 200
    operator.refresh_from_db()
    unsigned = f"{settings.STORAGE_PUBLIC_ENDPOINT}/{settings.STORAGE_BUCKET}/{operator.profile_pic}"
    assert httpx.get(unsigned, timeout=10).status_code == 403


@pytest.mark.parametrize(
    ("fmt", "mode", "ext"), [("PNG", "RGBA", "png"), ("WEBP", "RGB", "webp"), ("JPEG", "RGB", "jpg")]
)
def test_accepted_formats(client, operator, fmt, mode, ext):
    response = patch_picture(client, image_bytes(fmt, mode=mode), name=f"x.{ext}")
    assert response.status_code == 200, response.content
    operator.refresh_from_db()
    assert operator.profile_pic.endswith(f".{ext}")
    with default_storage.open(operator.profile_pic, "rb") as handle:
        image = Image.open(handle)
        assert image.format == fmt and image.mode == mode


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"%PDF-1.7\n1 0 obj", "cv.jpg"),  # extension lies
        (b"GIF89a" + b"\x00" * 40, "anim.gif"),
        (image_bytes("BMP"), "pic.png"),  # a real image, but not an allowed type
        (image_bytes("JPEG")[:60], "truncated.jpg"),
        (b"", "empty.jpg"),
    ],
)
def test_rejected_uploads(client, operator, data, name):
    response = patch_picture(client, data, name=name)
    assert response.status_code == 400 and "profile_pic" in response.json()
    operator.refresh_from_db()
    assert operator.profile_pic == ""


def test_size_limit(client, settings):
    settings.PROFILE_PIC_MAX_BYTES = 1024
    big = image_bytes("PNG", size=(200, 200), mode="RGB", compress_level=0)
    assert len(big) > 1024
    response = patch_picture(client, big, name="big.png")
    assert response.status_code == 400 and "profile_pic" in response.json()


def test_oversized_dimensions_are_refused_before_decoding(client):
    bomb = image_bytes("PNG", size=(8000, 6000), mode="RGB")  # 48 MP, tiny file
    response = patch_picture(client, bomb, name="bomb.png")
    assert response.status_code == 400


def test_large_picture_is_downscaled(client, operator):
    assert patch_picture(client, image_bytes("JPEG", size=(3000, 1500))).status_code == 200
    operator.refresh_from_db()
    with default_storage.open(operator.profile_pic, "rb") as handle:
        assert Image.open(handle).size == (1024, 512)


def test_replaced_and_removed_pictures_are_deleted(
    client, operator, eager_celery, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        patch_picture(client, image_bytes("JPEG"))
    operator.refresh_from_db()
    first = operator.profile_pic
    with django_capture_on_commit_callbacks(execute=True):
        patch_picture(client, image_bytes("PNG"), name="b.png")
    operator.refresh_from_db()
    second = operator.profile_pic
    assert second != first and default_storage.exists(second) and not default_storage.exists(first)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.patch(URL, {"profile_pic": None}, format="json")
    assert response.status_code == 200 and response.json()["data"]["profile_pic_url"] is None
    operator.refresh_from_db()
    assert operator.profile_pic == "" and not default_storage.exists(second)


def test_empty_multipart_value_removes_picture(client, operator):
    patch_picture(client, image_bytes("JPEG"))
    response = client.patch(URL, {"profile_pic": ""}, format="multipart")
    assert response.status_code == 200
    operator.refresh_from_db()
    assert operator.profile_pic == ""


@pytest.mark.sqlite
def test_password_update_revokes_other_sessions_and_renews_callers(operator, logged_in):
    caller, other = logged_in(operator), logged_in(operator)
    old_access_header = bearer(operator)
    response = caller.post(
        "/api/auth/password/update/",
        {
            "old_password": PASSWORD,
            "new_password": "Velvet-orchard-71",
            "new_password_confirm": "Velvet-orchard-71",
        },
        format="json",
    )
    assert response.status_code == 200 and response.json() == {"message": "Password updated successfully."}
    assert response.cookies["access_token"].value and response.cookies["refresh_token"].value
    assert caller.get("/api/auth/me/").status_code == 200  # fresh cookies work
    assert other.post("/api/auth/token/refresh/").status_code == 401
    assert APIClient().get("/api/auth/me/", **old_access_header).status_code == 401
    operator.refresh_from_db()
    assert operator.check_password("Velvet-orchard-71") and operator.token_version == 1
    assert login(APIClient(), operator.email, PASSWORD).status_code == 401


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"old_password": PASSWORD, "new_password": "short", "new_password_confirm": "short"},
            "new_password",
        ),
        (
            {
                "old_password": PASSWORD,
                "new_password": "Olive-operator",
                "new_password_confirm": "Olive-operator",
            },
            "new_password",
        ),
        (
            {"old_password": PASSWORD, "new_password": "Velvet-orchard-71", "new_password_confirm": "nope"},
            "new_password",
        ),
        (
            {
                "old_password": "wrong",
                "new_password": "Velvet-orchard-71",
                "new_password_confirm": "Velvet-orchard-71",
            },
            "old_password",
        ),
        ({"new_password": "Velvet-orchard-71", "new_password_confirm": "Velvet-orchard-71"}, "old_password"),
    ],
)
def test_password_update_errors(client, operator, data, field):
    response = client.post("/api/auth/password/update/", data, format="json")
    assert response.status_code == 400 and field in response.json()
    assert User.objects.get(pk=operator.pk).check_password(PASSWORD)


def test_me_is_for_any_active_account(api_client, normal_user):
    response = api_client.get("/api/auth/me/", **bearer(normal_user))
    assert response.status_code == 200 and response.json()["is_staff"] is False
