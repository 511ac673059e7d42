"""C5 candidate update: writable fields, validation, edited_fields, search text, regeneration, geo, photos."""

import io
import json
from decimal import Decimal

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from candidates.models import Candidate, Stage
from tests.candidates.conftest import download
from tests.candidates.factories import CandidateFactory, png_bytes, store, stored_cv_content

pytestmark = pytest.mark.django_db
REGENERATING = "CV is being regenerated, please allow a few moments."


def url(candidate) -> str:
    return f"/api/candidates/{candidate.id}/update/"


def patch(client, candidate, data, fmt="json"):
    return client.patch(url(candidate), data, format=fmt)


@pytest.mark.sqlite
def test_changed_fields_are_saved_and_recorded_as_edited(operator_client, pipeline_calls):
    candidate = CandidateFactory(name="Sarah Jones", location="Leeds", notes=None)
    response = patch(
        operator_client,
        candidate,
        {
            "name": "Sarah Jones",  # unchanged: not recorded
            "name_without_surname": "Sally",
            "whatsapp_number": "07700 900123",
            "years_of_experience": "4.5",
            "source": "crm",
            "availability_status": "not_available",
            "quality_status": "manual",
            "email_subject": "Experienced TA",
            "email_body": "Line one\nLine two",
            "notes": "Prefers KS1.",
            "processing_stage": "failed",  # read-only: ignored
            "unknown": "ignored",
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["name_without_surname"] == "Sally" and body["years_of_experience"] == "4.5"
    assert body["source"] == "crm" and body["quality_status"] == "manual" and body["notes"] == "Prefers KS1."
    assert body["processing_stage"] == "done"
    candidate.refresh_from_db()
    assert candidate.email_body == "Line one\nLine two" and candidate.years_of_experience == Decimal("4.5")
    assert set(candidate.edited_fields) == {
        "name_without_surname",
        "whatsapp_number",
        "years_of_experience",
        "source",
        "availability_status",
        "quality_status",
        "email_subject",
        "email_body",
        "notes",
    }
    assert pipeline_calls.regenerations == [candidate.pk]
    assert pipeline_calls.locations == []  # location/postcode untouched: coordinates kept (B16)
    # a second edit adds to edited_fields without duplicates
    patch(operator_client, candidate, {"notes": "Changed again", "location": "York"})
    candidate.refresh_from_db()
    assert candidate.edited_fields.count("notes") == 1 and "location" in candidate.edited_fields


@pytest.mark.sqlite
def test_unchanged_values_change_nothing(operator_client, pipeline_calls):
    candidate = CandidateFactory(location="Leeds", postcode="LS6 2AB")
    before = candidate.updated_at
    response = patch(operator_client, candidate, {"location": "Leeds", "postcode": "ls62ab"})
    assert response.status_code == 200
    candidate.refresh_from_db()
    assert candidate.edited_fields == [] and candidate.updated_at == before
    assert pipeline_calls.locations == [] and pipeline_calls.regenerations == []


@pytest.mark.sqlite
def test_location_or_postcode_change_recomputes_coordinates(operator_client, pipeline_calls):
    candidate = CandidateFactory(location="Leeds", postcode=None)
    patch(operator_client, candidate, {"postcode": " ls6 2ab "})
    patch(operator_client, candidate, {"location": "Harrogate"})
    patch(operator_client, candidate, {"notes": "nothing geographic"})
    assert pipeline_calls.locations == [
        (candidate.pk, "Leeds", "LS6 2AB"),
        (candidate.pk, "Harrogate", "LS6 2AB"),
    ]
    assert Candidate.objects.get(pk=candidate.pk).postcode == "LS6 2AB"


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"postcode": "NOT A POSTCODE"}, "postcode"),
        ({"years_of_experience": "60.5"}, "years_of_experience"),
        ({"years_of_experience": "-1"}, "years_of_experience"),
        ({"years_of_experience": "3.25"}, "years_of_experience"),
        ({"years_of_experience": "lots"}, "years_of_experience"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a" * 250 + "@x.org"}, "email"),
        ({"name": "x" * 256}, "name"),
        ({"name": None}, "name"),
        ({"whatsapp_number": "1" * 31}, "whatsapp_number"),
        ({"location": "l" * 256}, "location"),
        ({"source": "linkedin"}, "source"),
        ({"availability_status": "busy"}, "availability_status"),
        ({"quality_status": "ok"}, "quality_status"),
        ({"email_subject": "s" * 501}, "email_subject"),
        ({"email_body": "b" * 20_001}, "email_body"),
        ({"skills": "not json"}, "skills"),
        ({"skills": {"a": 1}}, "skills"),
        ({"skills": None}, "skills"),
        ({"job_titles": ["ok"] + [f"t{i}" for i in range(50)]}, "job_titles"),
        ({"profile_photo": "abc"}, "profile_photo"),
    ],
)
def test_field_validation_errors(operator_client, pipeline_calls, data, field):
    candidate = CandidateFactory()
    response = patch(operator_client, candidate, data)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Candidate.objects.get(pk=candidate.pk).edited_fields == []


@pytest.mark.sqlite
def test_non_object_body_is_400(operator_client):
    candidate = CandidateFactory()
    response = operator_client.patch(url(candidate), "[1, 2]", content_type="application/json")
    assert response.status_code == 400
    response = operator_client.patch(url(candidate), "{broken", content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()


@pytest.mark.sqlite
def test_email_is_unique_case_insensitively_and_stored_lower_case(operator_client, pipeline_calls):
    CandidateFactory(email="taken@example.org")
    candidate = CandidateFactory(email="mine@example.org")
    response = patch(operator_client, candidate, {"email": "TAKEN@Example.org"})
    assert response.status_code == 400
    assert response.json() == {"email": ["A candidate with this email already exists."]}
    response = patch(operator_client, candidate, {"email": "Mine@EXAMPLE.org"})
    assert response.status_code == 200 and response.json()["email"] == "mine@example.org"
    assert Candidate.objects.get(pk=candidate.pk).edited_fields == []  # same address: no change
    response = patch(operator_client, candidate, {"email": "New.Address@Example.org"})
    assert response.json()["email"] == "new.address@example.org"
    assert patch(operator_client, candidate, {"email": None}).json()["email"] is None
    # null is never "taken": two candidates may both have no e-mail
    other = CandidateFactory(email="x@example.org")
    assert patch(operator_client, other, {"email": ""}).json()["email"] is None


@pytest.mark.sqlite
def test_nullable_fields_accept_null_and_blank(operator_client, pipeline_calls):
    candidate = CandidateFactory(
        whatsapp_number="07700900123", location="Leeds", postcode="LS6 2AB", notes="x"
    )
    body = patch(
        operator_client,
        candidate,
        {
            "whatsapp_number": None,
            "location": "",
            "postcode": None,
            "years_of_experience": None,
            "notes": None,
        },
    ).json()
    assert body["whatsapp_number"] is None and body["location"] is None and body["postcode"] is None
    assert body["years_of_experience"] is None and body["notes"] is None


@pytest.mark.sqlite
def test_lists_from_json_and_multipart_with_per_item_limits(operator_client, pipeline_calls):
    candidate = CandidateFactory(skills=["Phonics"])
    body = patch(operator_client, candidate, {"skills": [" EYFS ", "eyfs", "", "Team Teach"]}).json()
    assert body["skills"] == ["EYFS", "Team Teach"]  # trimmed, blanks and case-insensitive duplicates dropped
    # B7: the limit applies per item after parsing, never to the whole JSON string (here ~2 400 characters)
    many = [f"Skill number {i:02d} " + "x" * 30 for i in range(50)]
    response = patch(operator_client, candidate, {"skills": json.dumps(many)}, fmt="multipart")
    assert response.status_code == 200, response.content
    assert response.json()["skills"] == [" ".join(s.split()) for s in many]
    response = patch(
        operator_client, candidate, {"job_titles": json.dumps(["SENCO", "y" * 101])}, fmt="multipart"
    )
    assert response.status_code == 400
    assert response.json() == {"job_titles": {"1": ["Ensure this field has no more than 100 characters."]}}
    response = patch(
        operator_client, candidate, {"job_titles": ["HLTA", "Cover Supervisor"]}, fmt="multipart"
    )
    assert response.json()["job_titles"] == ["HLTA", "Cover Supervisor"]  # repeated form fields
    assert patch(operator_client, candidate, {"skills": []}).json()["skills"] == []


@pytest.mark.sqlite
def test_search_text_follows_edits(operator_client, pipeline_calls):
    candidate = CandidateFactory(name="Sarah Jones", skills=["Phonics"])
    patch(operator_client, candidate, {"skills": ["British Sign Language"], "name": "Sarah Smith"})

    def find(term):
        response = operator_client.get("/api/candidates/", {"search": term})
        return [c["id"] for c in response.json()["results"]]

    assert find("sign language") == [str(candidate.id)] and find("smith") == [str(candidate.id)]
    assert find("phonics") == [] and find("jones") == []
    response = operator_client.get("/api/candidates/", {"skills": "sign"})
    assert [c["id"] for c in response.json()["results"]] == [str(candidate.id)]


@pytest.mark.sqlite
def test_queued_regeneration_hides_the_old_pdf_in_the_response_only(operator_client, pipeline_calls):
    candidate = CandidateFactory(files=True, ai_enhanced_cv_content=stored_cv_content())
    pipeline_calls.regenerate = True
    body = patch(operator_client, candidate, {"name_without_surname": "Sally"}).json()
    assert body["enhanced_cv_url"] is None and body["cv_status_message"] == REGENERATING
    detail = operator_client.get(f"/api/candidates/{candidate.id}/").json()
    assert detail["enhanced_cv_url"] is not None and detail["cv_status_message"] == REGENERATING


@pytest.mark.sqlite
def test_no_regeneration_keeps_the_pdf_link(operator_client, pipeline_calls):
    candidate = CandidateFactory(files=True)
    body = patch(operator_client, candidate, {"notes": "just a note"}).json()
    assert body["enhanced_cv_url"] is not None and body["cv_status_message"] is None
    assert pipeline_calls.regenerations == [candidate.pk]


def test_real_pipeline_queues_a_render_only_when_the_rendered_content_changes(
    operator_client, django_capture_on_commit_callbacks
):
    from candidates import documents

    candidate = CandidateFactory(
        name="Sarah Jones",
        name_without_surname="Sarah",
        ai_enhanced_cv_content=stored_cv_content(),
        files=True,
    )
    Candidate.objects.filter(pk=candidate.pk).update(enhanced_cv_hash=documents.context_digest(candidate))
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        body = patch(operator_client, candidate, {"email": "sarah@example.org", "skills": ["Maths"]}).json()
    assert body["cv_status_message"] is None and body["enhanced_cv_url"] is not None and not callbacks
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        body = patch(operator_client, candidate, {"name_without_surname": "Sally"}).json()
    assert body["enhanced_cv_url"] is None and body["cv_status_message"] == REGENERATING
    assert len(callbacks) == 1  # the render task, enqueued after commit
    assert Candidate.objects.get(pk=candidate.pk).pending_render_hash


def _jpeg_with_exif() -> bytes:
    return png_bytes(size=(900, 1200), exif=True)


def test_profile_photo_upload_is_reencoded_stored_and_replaces_the_old_one(
    operator_client, pipeline_calls, eager_celery, django_capture_on_commit_callbacks
):
    candidate = CandidateFactory(files=True)
    old_photo = candidate.profile_photo
    upload = SimpleUploadedFile("me.jpg", _jpeg_with_exif(), content_type="image/jpeg")
    with django_capture_on_commit_callbacks(execute=True):
        response = patch(
            operator_client, candidate, {"profile_photo": upload, "notes": "new photo"}, fmt="multipart"
        )
    assert response.status_code == 200, response.content
    candidate.refresh_from_db()
    key = candidate.profile_photo
    assert key.startswith(f"candidates/photos/{candidate.id}/") and key.endswith(".jpg") and key != old_photo
    stored = default_storage.open(key).read()
    import hashlib

    assert key == f"candidates/photos/{candidate.id}/{hashlib.sha256(stored).hexdigest()}.jpg"
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG" and max(image.size) <= 600
    assert not image.getexif() and b"SecretCam" not in stored and b"private comment" not in stored
    assert "profile_photo" in candidate.edited_fields
    assert not default_storage.exists(old_photo)  # replaced picture deleted (B24)
    assert download(operator_client, response.json()["profile_photo_url"])[0] == stored


@pytest.mark.sqlite
def test_profile_photo_png_with_transparency_and_removal(
    operator_client, pipeline_calls, eager_celery, django_capture_on_commit_callbacks
):
    candidate = CandidateFactory()
    buffer = io.BytesIO()
    Image.new("RGBA", (120, 120), (0, 0, 0, 0)).save(buffer, "PNG")
    upload = SimpleUploadedFile("transparent.png", buffer.getvalue(), content_type="image/png")
    with django_capture_on_commit_callbacks(execute=True):
        response = patch(operator_client, candidate, {"profile_photo": upload}, fmt="multipart")
    assert response.status_code == 200
    key = Candidate.objects.get(pk=candidate.pk).profile_photo
    assert Image.open(default_storage.open(key)).getpixel((5, 5)) == (255, 255, 255)  # flattened on white
    with django_capture_on_commit_callbacks(execute=True):
        response = patch(operator_client, candidate, {"profile_photo": None})
    assert response.status_code == 200 and response.json()["profile_photo_url"] is None
    assert Candidate.objects.get(pk=candidate.pk).profile_photo == ""
    assert not default_storage.exists(key)
    # multipart: an empty value removes as well (forms cannot send null)
    store_key = store(f"candidates/photos/{candidate.id}/{'9' * 64}.jpg", png_bytes())
    Candidate.objects.filter(pk=candidate.pk).update(profile_photo=store_key)
    response = patch(operator_client, candidate, {"profile_photo": ""}, fmt="multipart")
    assert response.status_code == 200 and response.json()["profile_photo_url"] is None


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("content", "name", "message"),
    [
        (b"%PDF-1.7 not an image", "photo.jpg", "Upload a valid image"),
        (b"GIF89a" + b"\x00" * 100, "photo.gif", "Upload a valid image"),
        (png_bytes()[:60], "cut.png", "Upload a valid image"),
        (b"\xff" * (5 * 1024 * 1024 + 1), "huge.jpg", "larger than 5 MB"),
    ],
)
def test_profile_photo_must_be_an_image_by_content(operator_client, pipeline_calls, content, name, message):
    candidate = CandidateFactory()
    upload = SimpleUploadedFile(name, content, content_type="image/jpeg")
    response = patch(operator_client, candidate, {"profile_photo": upload}, fmt="multipart")
    assert response.status_code == 400
    assert message in response.json()["profile_photo"][0]
    assert Candidate.objects.get(pk=candidate.pk).profile_photo == ""


@pytest.mark.sqlite
def test_form_encoded_update(operator_client, pipeline_calls):
    candidate = CandidateFactory()
    response = operator_client.patch(
        url(candidate),
        "notes=From+a+form&skills=%5B%22Maths%22%5D",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert response.json()["notes"] == "From a form" and response.json()["skills"] == ["Maths"]


@pytest.mark.sqlite
def test_update_of_a_candidate_in_processing_records_edits(operator_client, pipeline_calls):
    candidate = CandidateFactory(processing_stage=Stage.ANALYSING)
    assert patch(operator_client, candidate, {"job_titles": ["HLTA"]}).status_code == 200
    assert Candidate.objects.get(pk=candidate.pk).edited_fields == ["job_titles"]
