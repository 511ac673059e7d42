"""C4 candidate detail: every contract field, formats, signed links that download, 404 bodies."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings

from candidates.models import Candidate, RewriteStatus, Stage
from cvengine.storage import is_s3
from tests.candidates.conftest import download
from tests.candidates.factories import BatchFactory, CandidateFactory, stored_cv_content

pytestmark = pytest.mark.django_db

DETAIL_FIELDS = {
    "id",
    "batch",
    "name",
    "name_without_surname",
    "email",
    "whatsapp_number",
    "location",
    "postcode",
    "years_of_experience",
    "skills",
    "job_titles",
    "profile_photo_url",
    "source",
    "availability_status",
    "quality_status",
    "quality_reasons",
    "ai_processing_status",
    "processing_stage",
    "failure_stage",
    "failure_code",
    "stage_updated_at",
    "ai_task_id",
    "ai_enhanced_cv_content",
    "ai_failure_reason",
    "ai_retry_count",
    "email_subject",
    "email_body",
    "notes",
    "original_cv_url",
    "original_filename",
    "file_type",
    "file_sha256",
    "duplicate_of",
    "enhanced_cv_url",
    "cv_status_message",
    "pdf_regeneration_error",
    "rewrite_status",
    "rewrite_failure_reason",
    "geo",
    "availability_email_sent_at",
    "last_contacted_at",
    "contacts_emailed_count",
    "created_at",
    "updated_at",
}


def url(candidate_id) -> str:
    return f"/api/candidates/{candidate_id}/"


def test_detail_has_every_field_with_contract_formats_and_downloadable_links(operator_client):
    batch = BatchFactory()
    original = CandidateFactory()
    candidate = CandidateFactory(
        batch=batch,
        name="Sarah Jones",
        name_without_surname="Sarah",
        postcode="LS6 2AB",
        years_of_experience=Decimal("0.0"),
        quality_reasons=["missing_email"],
        ai_enhanced_cv_content=stored_cv_content(),
        original_filename="Sarah Jones CV (final).pdf",
        duplicate_of=original,
        rewrite_status=RewriteStatus.FAILED,
        rewrite_failure_reason="rewrite changed immutable fields",
        latitude=Decimal("51.513660"),
        longitude=Decimal("0.000000"),
        geo_precision="unit",
        geo_matched="LS6 2AB",
        geocoded_at=datetime(2025, 7, 1, 11, 0, tzinfo=UTC),
        files=True,
    )
    body = operator_client.get(url(candidate.id)).json()
    assert set(body) == DETAIL_FIELDS
    assert body["id"] == str(candidate.id) and body["batch"] == str(batch.id)
    assert body["duplicate_of"] == str(original.id)
    assert body["years_of_experience"] == "0.0"
    assert body["quality_reasons"] == ["missing_email"]
    assert body["ai_enhanced_cv_content"]["data_extracted"]["name"] == "Sarah"
    assert body["ai_processing_status"] == "completed" and body["processing_stage"] == "done"
    assert body["rewrite_status"] == "failed"
    assert body["cv_status_message"] is None
    # geo values are JSON numbers; 0.0 is a real coordinate (prime meridian), not "missing"
    assert body["geo"] == {
        "latitude": 51.51366,
        "longitude": 0.0,
        "precision": "unit",
        "matched": "LS6 2AB",
        "geocoded_at": "2025-07-01T12:00:00+01:00",  # rendered in Europe/London
    }
    created = datetime.fromisoformat(body["created_at"])
    assert created.tzinfo is not None
    assert created.utcoffset() == candidate.created_at.astimezone(ZoneInfo("Europe/London")).utcoffset()
    assert "extracted_text" not in body and "search_text" not in body

    content, disposition = download(operator_client, body["original_cv_url"])
    assert content == b"%PDF-1.7 original" and "Sarah Jones CV (final).pdf" in disposition
    content, disposition = download(operator_client, body["enhanced_cv_url"])
    assert content == b"%PDF-1.7 enhanced" and "Sarah - CV.pdf" in disposition
    content, _ = download(operator_client, body["profile_photo_url"])
    assert content[:4] == b"\x89PNG"


@pytest.mark.sqlite
def test_detail_local_links_and_missing_files(operator_client):
    candidate = CandidateFactory(name="Tom Brown", name_without_surname="", files=True)
    body = operator_client.get(url(candidate.id)).json()
    expected_prefix = settings.STORAGE_PUBLIC_ENDPOINT if is_s3() else "http://testserver/api/files/"
    assert body["original_cv_url"].startswith(expected_prefix)
    _, disposition = download(operator_client, body["enhanced_cv_url"])
    assert "Tom - CV.pdf" in disposition  # given name falls back to the first token of the name
    bare = CandidateFactory(geo_precision="", latitude=None, longitude=None)
    body = operator_client.get(url(bare.id)).json()
    assert body["original_cv_url"] is None and body["enhanced_cv_url"] is None
    assert body["profile_photo_url"] is None and body["geo"] is None and body["duplicate_of"] is None


@pytest.mark.sqlite
def test_pending_regeneration_keeps_the_previous_pdf_and_shows_a_message(operator_client):
    candidate = CandidateFactory(files=True)
    Candidate.objects.filter(pk=candidate.pk).update(pending_render_hash="f" * 64)
    body = operator_client.get(url(candidate.id)).json()
    assert body["enhanced_cv_url"] is not None
    assert body["cv_status_message"] == "CV is being regenerated, please allow a few moments."


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("stage", "status"),
    [
        (Stage.QUEUED, "not_started"),
        (Stage.EXTRACTING, "in_progress"),
        (Stage.ANALYSING, "in_progress"),
        (Stage.RENDERING, "in_progress"),
        (Stage.DONE, "completed"),
        (Stage.FAILED, "failed"),
    ],
)
def test_ai_processing_status_is_derived_from_the_stage(operator_client, stage, status):
    candidate = CandidateFactory(processing_stage=stage)
    assert operator_client.get(url(candidate.id)).json()["ai_processing_status"] == status


@pytest.mark.sqlite
@pytest.mark.parametrize(
    "path",
    [
        "{id}/",
        "{id}/update/",
        "{id}/delete/",
        "{id}/rewrite/",
        "{id}/rewrite/status/",
        "{id}/retry/",
    ],
)
@pytest.mark.parametrize("bad_id", ["not-a-uuid", "12345", str(uuid.uuid4())])
def test_unknown_or_malformed_candidate_id_is_404_with_contract_body(operator_client, path, bad_id):
    target = "/api/candidates/" + path.format(id=bad_id)
    method = {
        "{id}/": "get",
        "{id}/update/": "patch",
        "{id}/delete/": "delete",
        "{id}/rewrite/": "post",
        "{id}/rewrite/status/": "get",
        "{id}/retry/": "post",
    }[path]
    response = getattr(operator_client, method)(target, {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"detail": "Candidate not found."}


@pytest.mark.sqlite
def test_wrong_methods_are_405(operator_client):
    candidate = CandidateFactory()
    assert (
        operator_client.put(f"/api/candidates/{candidate.id}/update/", {}, format="json").status_code == 405
    )
    assert operator_client.get(f"/api/candidates/{candidate.id}/delete/").status_code == 405
    assert operator_client.delete(url(candidate.id)).status_code == 405
