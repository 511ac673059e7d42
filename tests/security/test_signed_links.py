"""Signed file links and the private bucket (reference-defects S5; api.md §1.8, §7), beyond the basics of
tests/platform/test_local_files.py (expiry, a garbled signature, deleted files, no direct paths) and
tests/platform/test_storage.py (private objects, presigned expiry, a changed X-Amz-Expires, public policy):

- a signature never carries over to another file (local token payload swap; S3 key swap);
- tokens minted for other purposes (other salts, unsubscribe links) open nothing;
- links in API responses expire after FILE_URL_TTL_SECONDS;
- the S3 bucket cannot be listed anonymously, and objects stored by the upload path are not public.
"""

import time
import urllib.error
import urllib.request
import uuid

import pytest
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from cvengine import storage
from tests.candidates.factories import CandidateFactory
from tests.platform.test_local_files import local_storage  # noqa: F401  (fixture)

s3_only = pytest.mark.skipif(not storage.is_s3(), reason="S3 checks run in the services profile")


def _local_path(url: str) -> str:
    return url.removeprefix("http://testserver")


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


# --- local storage (embedded mode) ---------------------------------------------------------------------------


@pytest.mark.sqlite
def test_a_local_signature_does_not_carry_over_to_another_file(client, local_storage):  # noqa: F811
    first = _local_path(storage.signed_url(local_storage.save("a/first.txt", ContentFile(b"first"))))
    second = _local_path(storage.signed_url(local_storage.save("b/second.txt", ContentFile(b"second"))))
    token_1, token_2 = first.split("/")[3], second.split("/")[3]
    payload_2, signature_1 = token_2.split(":", 1)[0], token_1.split(":", 1)[1]
    assert client.get(first).status_code == 200 and client.get(second).status_code == 200
    assert client.get(f"/api/files/{payload_2}:{signature_1}/").status_code == 403


@pytest.mark.sqlite
def test_tokens_signed_for_other_purposes_open_no_file(client, local_storage):  # noqa: F811
    from outreach.unsubscribe import make_token

    name = local_storage.save("candidates/original/c1/cv.pdf", ContentFile(b"%PDF-1.7 private"))
    payload = {"n": name, "f": "cv.pdf", "e": int(time.time()) + 900}
    for token in (
        signing.dumps(payload, compress=True),  # Django's default salt
        signing.dumps(payload, salt="cvengine.outreach.unsubscribe", compress=True),
        signing.Signer(salt="cvengine.outreach.unsubscribe").sign_object(payload, compress=True),
        make_token("someone@school.sch.uk"),
    ):
        response = client.get(f"/api/files/{token}/")
        assert response.status_code == 403 and response.json() == {"detail": "Link expired or invalid."}


@pytest.mark.sqlite
@pytest.mark.django_db
def test_links_in_api_responses_expire_after_the_configured_lifetime(
    local_storage,  # noqa: F811  (first: the settings change below must be undone before it)
    operator_client,
    client,
    settings,
):
    settings.FILE_URL_TTL_SECONDS = 1
    candidate = CandidateFactory(files=True)
    url = operator_client.get(f"/api/candidates/{candidate.pk}/").json()["original_cv_url"]
    assert client.get(_local_path(url)).status_code == 200
    time.sleep(2.1)
    assert client.get(_local_path(url)).status_code == 403


# --- S3 (production mode) ------------------------------------------------------------------------------------


@s3_only
def test_an_s3_signature_does_not_carry_over_to_another_object():
    first = default_storage.save(f"tests/links/{uuid.uuid4().hex}.pdf", ContentFile(b"first"))
    second = default_storage.save(f"tests/links/{uuid.uuid4().hex}.pdf", ContentFile(b"second"))
    url = storage.signed_url(first, "first.pdf")
    assert _status(url) == 200
    assert _status(url.replace(first, second)) == 403


@s3_only
def test_the_bucket_cannot_be_listed_anonymously(settings):
    bucket = f"{settings.STORAGE_ENDPOINT}/{settings.STORAGE_BUCKET}"
    for url in (bucket, f"{bucket}/", f"{bucket}?list-type=2", f"{bucket}?prefix=candidates/"):
        assert _status(url) == 403, url


@s3_only
@pytest.mark.django_db
def test_api_links_are_presigned_for_the_configured_lifetime_and_objects_stay_private(
    operator_client, settings
):
    settings.FILE_URL_TTL_SECONDS = 120
    candidate = CandidateFactory(files=True)
    detail = operator_client.get(f"/api/candidates/{candidate.pk}/").json()
    for key in ("original_cv_url", "enhanced_cv_url", "profile_photo_url"):
        assert "X-Amz-Expires=120&" in detail[key] and "X-Amz-Signature=" in detail[key], key
        assert _status(detail[key]) == 200
        assert _status(detail[key].split("?", 1)[0]) == 403  # the same object without the signature
