"""Local storage mode (embedded): files are served only through signed, expiring /api/files/<token>/ links."""

import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.test import override_settings

from cvengine import storage


@pytest.fixture
def local_storage(tmp_path):
    options = {"location": str(tmp_path), "file_permissions_mode": 0o600}
    with override_settings(
        STORAGE_BACKEND="local",
        MEDIA_ROOT=tmp_path,
        STORAGES={
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": options},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        },
    ):
        yield storages["default"]


pytestmark = [pytest.mark.sqlite]


def _path(url):
    assert url.startswith("http://testserver/api/files/")
    return url.removeprefix("http://testserver")


def test_signed_link_downloads_with_name_and_no_caching(client, local_storage):
    name = local_storage.save("candidates/enhanced/c1/abc.pdf", ContentFile(b"%PDF-1.7 data"))
    response = client.get(_path(storage.signed_url(name, "Sarah - CV.pdf")))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 data"
    assert response["Content-Disposition"] == 'attachment; filename="Sarah - CV.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["Cache-Control"] == "private, no-store"


def test_expired_link_is_refused(client, local_storage):
    name = local_storage.save("a.txt", ContentFile(b"x"))
    url = storage.signed_url(name, ttl=1)
    time.sleep(2.1)
    response = client.get(_path(url))
    assert response.status_code == 403
    assert response.json() == {"detail": "Link expired or invalid."}


def test_tampered_or_garbage_token_is_refused(client, local_storage):
    url = storage.signed_url(local_storage.save("a.txt", ContentFile(b"x")))
    path = _path(url)
    token = path.split("/")[3]
    tampered = path.replace(token, token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB"))
    assert client.get(tampered).status_code == 403
    assert client.get("/api/files/not-a-token/").status_code == 403


def test_link_to_a_deleted_file_is_refused(client, local_storage):
    name = local_storage.save("gone.txt", ContentFile(b"x"))
    url = storage.signed_url(name)
    storage.delete_files([name])
    assert client.get(_path(url)).status_code == 403


def test_files_are_not_reachable_without_a_token(client, local_storage):
    local_storage.save("candidates/original/c1/cv.pdf", ContentFile(b"secret"))
    for path in ("/media/candidates/original/c1/cv.pdf", "/candidates/original/c1/cv.pdf"):
        assert client.get(path).status_code == 404


def test_no_file_means_no_link():
    assert storage.signed_url(None) is None
    assert storage.signed_url("") is None
