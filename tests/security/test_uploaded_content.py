"""Uploaded content is judged by its bytes and served inertly (reference-defects S12, V6), beyond
tests/core/extraction/test_filetypes.py (sniffing), tests/candidates/test_upload.py (renamed and foreign files)
and the photo tests (tests/candidates/test_api_update.py, tests/accounts/test_profile.py):

- markup uploaded as a CV under a PDF name and type is stored and served as plain text, as an attachment;
- SVG (an image format that can carry script) is refused as a candidate photo and as a profile picture.
"""

import urllib.request

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from candidates.models import Candidate
from cvengine import storage
from tests.candidates.factories import CandidateFactory

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
MARKUP_CV = (
    b"<html><body><script>fetch('/api/candidates/').then(r => r.text()).then(alert)</script>\n"
    b"Jane Example\nTeaching Assistant in Leeds\nSep 2019 - Present: Teaching Assistant, Oak Primary School\n"
    b"</body></html>\n"
)
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="200"><script>alert(document.cookie)</script>'
    b'<rect width="200" height="200" fill="red"/></svg>'
)


def _download(url: str, client):
    """(status, headers) of a signed link: local links through the test client, S3 links over HTTP."""
    if not storage.is_s3():
        response = client.get(url.removeprefix("http://testserver"))
        return response.status_code, {k.lower(): v for k, v in response.items()}
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.status, {k.lower(): v for k, v in response.headers.items()}


def test_markup_named_as_a_pdf_is_stored_and_served_as_plain_text_attachment(operator_client, client):
    upload = SimpleUploadedFile("cv.pdf", MARKUP_CV, content_type="application/pdf")
    response = operator_client.post("/api/candidates/upload/", {"files": [upload]}, format="multipart")
    assert response.status_code == 202, response.content
    outcome = response.json()["files"][0]
    assert (outcome["status"], outcome["detected_type"]) == ("accepted", "txt")
    candidate = Candidate.objects.get(pk=outcome["candidate_id"])
    assert candidate.original_file.endswith(".txt") and candidate.file_type == "txt"

    url = operator_client.get(f"/api/candidates/{candidate.pk}/").json()["original_cv_url"]
    status, headers = _download(url, client)
    assert status == 200
    assert headers["content-type"].startswith("text/plain")
    assert headers["content-disposition"].startswith("attachment")
    if not storage.is_s3():
        assert headers["x-content-type-options"] == "nosniff"


def test_svg_is_refused_as_a_candidate_photo(operator_client):
    candidate = CandidateFactory()
    photo = SimpleUploadedFile("photo.png", SVG, content_type="image/png")
    response = operator_client.patch(
        f"/api/candidates/{candidate.pk}/update/", {"profile_photo": photo}, format="multipart"
    )
    assert response.status_code == 400 and "profile_photo" in response.json()
    assert Candidate.objects.get(pk=candidate.pk).profile_photo == ""


def test_svg_is_refused_as_a_profile_picture(operator_client, operator):
    picture = SimpleUploadedFile("me.svg", SVG, content_type="image/svg+xml")
    response = operator_client.patch(
        "/api/auth/profile/update/", {"profile_pic": picture}, format="multipart"
    )
    assert response.status_code == 400 and "profile_pic" in response.json()
    operator.refresh_from_db()
    assert not operator.profile_pic
