"""C2: bulk upload over HTTP — content sniffing, per-file outcomes, metadata rules, limits."""

import json
import zipfile
from datetime import date
from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from candidates.models import Batch, Candidate
from tests.cvgen.layouts import render as render_cv
from tests.cvgen.profile import make_profile

pytestmark = pytest.mark.django_db
URL = "/api/candidates/upload/"


def _cv(tmp_path, seed, layout="txt"):
    path = render_cv(make_profile(seed, date.today(), layout), tmp_path / f"cv{seed}", layout)
    return SimpleUploadedFile(path.name, path.read_bytes())


def _post(client, files, **data):
    return client.post(URL, {"files": files, **data}, format="multipart")


@pytest.mark.sqlite
def test_upload_accepts_rejects_and_reports_each_file(tmp_path, operator_client, operator):
    word = _cv(tmp_path, 1, "docx_table")
    renamed_word = SimpleUploadedFile("cv.pdf", word.read())  # type comes from content, not the extension
    word.seek(0)
    files = [
        word,
        renamed_word,
        SimpleUploadedFile("notes.txt", b""),
        SimpleUploadedFile("scan.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 2048),
        SimpleUploadedFile("x" * 300 + ".txt", ("Long name CV. " * 40).encode()),
    ]
    response = _post(operator_client, files, job_role='["Teaching Assistant", "teaching assistant", "HLTA"]')
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["message"] == "2 CV(s) accepted and queued for processing."
    assert (body["accepted"], body["duplicates"], body["rejected"]) == (2, 1, 2)
    outcomes = body["files"]
    assert [o["status"] for o in outcomes] == ["accepted", "duplicate", "rejected", "rejected", "accepted"]
    assert outcomes[0]["detected_type"] == "docx" and outcomes[1]["detected_type"] == "docx"
    assert outcomes[1]["reason"]["code"] == "duplicate_in_request"
    assert outcomes[1]["duplicate_of"] == outcomes[0]["candidate_id"]
    assert outcomes[2]["reason"]["code"] == "empty_file"
    assert outcomes[3]["reason"] == {"code": "unsupported_type", "message": outcomes[3]["reason"]["message"]}
    assert "PNG" in outcomes[3]["reason"]["message"]
    assert len(outcomes[4]["filename"]) == 255  # long names are truncated, never rejected
    batch = body["batch"]
    assert batch["uploaded_count"] == 2 and batch["total_count"] == 2 and batch["status"] == "queued"
    assert batch["additional_info"] == {"job_role": ["Teaching Assistant", "HLTA"]}
    assert batch["created_by"] == str(operator.id)
    stored = Candidate.objects.get(id=outcomes[0]["candidate_id"])
    assert default_storage.exists(stored.original_file) and stored.file_type == "docx"
    assert Batch.objects.get().files[3]["reason"]["code"] == "unsupported_type"


def test_additional_info_json_and_separate_fields(tmp_path, operator_client):
    info = json.dumps(
        {"experience": 4, "skills": ["Phonics", " phonics ", "EYFS"], "current_location": "Leeds"}
    )
    response = _post(
        operator_client, [_cv(tmp_path, 2)], additional_info=info, experience="6", skills=["SEN"]
    )
    assert response.status_code == 202, response.content
    assert response.json()["batch"]["additional_info"] == {
        "experience": 6.0,
        "skills": ["SEN"],
        "current_location": "Leeds",
    }


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"experience": "61"}, "experience"),
        ({"experience": "lots"}, "experience"),
        ({"skills": '["' + "x" * 101 + '"]'}, "skills"),
        ({"job_role": "[not json"}, "job_role"),
        ({"additional_info": "[1, 2]"}, "additional_info"),
        ({"current_location": "y" * 256}, "current_location"),
    ],
)
def test_bad_metadata_is_a_field_error(tmp_path, operator_client, data, field):
    response = _post(operator_client, [_cv(tmp_path, 3)], **data)
    assert response.status_code == 400 and field in response.json()
    assert Candidate.objects.count() == 0


@pytest.mark.parametrize("empty", ["", "null", "None"])
def test_empty_experience_means_absent(tmp_path, operator_client, empty):
    response = _post(operator_client, [_cv(tmp_path, 4)], experience=empty)
    assert response.status_code == 202 and "experience" not in response.json()["batch"]["additional_info"]


@pytest.mark.sqlite
def test_no_files_too_many_files_and_nothing_acceptable(operator_client, settings):
    response = operator_client.post(URL, {"experience": "3"}, format="multipart")
    assert response.status_code == 400 and response.json() == {"files": ["No files were submitted."]}
    settings.UPLOAD_MAX_FILES = 2
    files = [SimpleUploadedFile(f"{i}.txt", f"CV number {i} ".encode() * 30) for i in range(3)]
    response = _post(operator_client, files)
    assert response.status_code == 400 and response.json() == {"files": ["At most 2 files per request."]}
    response = _post(
        operator_client, [SimpleUploadedFile("a.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600))]
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "no_acceptable_files" and body["files"][0]["reason"]["code"] == "unsupported_type"
    assert "Word" in body["files"][0]["reason"]["message"]
    assert Batch.objects.count() == 0


def test_hostile_files_fail_alone(tmp_path, operator_client, settings):
    settings.UPLOAD_MAX_FILE_BYTES = 1024 * 1024
    bomb = BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"\x00" * (20 * 1024 * 1024))
    files = [
        _cv(tmp_path, 5),
        SimpleUploadedFile("bomb.docx", bomb.getvalue()),
        SimpleUploadedFile("huge.txt", b"a" * (settings.UPLOAD_MAX_FILE_BYTES + 1)),
        SimpleUploadedFile("xss.txt", b"<script>alert(1)</script> Teacher CV " * 20),
    ]
    body = _post(operator_client, files).json()
    assert [o["status"] for o in body["files"]] == ["accepted", "rejected", "rejected", "accepted"]
    assert body["files"][1]["reason"]["code"] == "corrupt_file"
    assert body["files"][2]["reason"]["code"] == "too_large"


def test_upload_needs_multipart_and_an_operator(api_client, operator_client, make_user):
    assert operator_client.post(URL, {"files": []}, format="json").status_code == 415
    assert api_client.post(URL, {}, format="multipart").status_code == 401
    api_client.force_authenticate(make_user("plain@example.org"))
    assert api_client.post(URL, {}, format="multipart").status_code == 403


def test_oversized_request_is_413(operator_client, settings):
    settings.UPLOAD_MAX_REQUEST_BYTES = 1000
    response = _post(operator_client, [SimpleUploadedFile("a.txt", b"x" * 5000)])
    assert response.status_code == 413 and response.json()["code"] == "request_too_large"
