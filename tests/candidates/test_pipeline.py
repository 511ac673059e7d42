"""The CV pipeline end to end (eager), its stage machine, idempotency, failures, retries and regeneration."""

import io
import uuid
from contextlib import contextmanager
from datetime import date, timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from accounts.models import ActivityLog
from candidates import ingest, pipeline
from candidates.models import Batch, Candidate, Quality, Stage
from outreach.models import CandidateEmail
from tests.cvgen.layouts import render as render_cv
from tests.cvgen.profile import make_profile

pytestmark = pytest.mark.django_db(transaction=True)
TODAY = date.today()


def cv_upload(tmp_path, seed: int, layout: str = "txt", name: str | None = None) -> SimpleUploadedFile:
    profile = make_profile(seed, TODAY, layout)
    path = render_cv(profile, tmp_path / f"cv-{seed}-{layout}", layout)
    return SimpleUploadedFile(name or path.name, path.read_bytes()), profile


def upload(files, user=None, force=False, info=None):
    return ingest.ingest(files, info or {}, user, force=force)


def test_uploaded_cvs_reach_done_with_mapped_fields_pdf_and_one_availability_email(
    tmp_path, eager_celery, operator
):
    (first, profile), (second, _) = cv_upload(tmp_path, 3, "docx_table"), cv_upload(tmp_path, 4, "txt")
    result = upload([first, second], operator, info={"job_role": ["Teaching Assistant"]})
    assert [o.status for o in result.outcomes] == ["accepted", "accepted"]
    candidate = Candidate.objects.get(id=result.outcomes[0].candidate_id)
    assert candidate.processing_stage == Stage.DONE, (candidate.failure_code, candidate.ai_failure_reason)
    assert candidate.ai_processing_status == "completed"
    assert candidate.email == profile.email.lower()
    assert candidate.name_without_surname == profile.given_name
    assert candidate.quality_status in (Quality.PASSED, Quality.FAILED, Quality.MANUAL)
    assert candidate.ai_enhanced_cv_content["schema_version"] == 2
    assert candidate.ai_enhanced_cv_content["personal_info"]["job_role"] == ["Teaching Assistant"]
    assert candidate.extracted_text and candidate.search_text
    assert candidate.enhanced_cv.startswith(f"candidates/enhanced/{candidate.id}/")
    assert default_storage.open(candidate.enhanced_cv).read(5) == b"%PDF-"
    assert candidate.enhanced_cv_hash and not candidate.pending_render_hash
    assert candidate.original_file == f"candidates/original/{candidate.id}/{candidate.file_sha256}.docx"
    assert CandidateEmail.objects.filter(candidate=candidate, kind="availability").count() == 1
    batch = Batch.objects.get()
    assert batch.finished_at is not None and batch.uploaded_count == 2
    events = list(ActivityLog.objects.values_list("event_type", flat=True))
    assert events.count("batch_uploaded") == 1 and events.count("batch_completed") == 1
    assert events.count("cv_processed") == 2


def test_coordinates_come_from_the_postcode_or_town(tmp_path, eager_celery):
    text = (
        "Jane Doe\njane.doe@example.org | 07700 900123 | 12 Lime St, London EC3A 5DE\n\n"
        "Employment History\nTeaching Assistant, St Mary's Primary School, London\nSept 2019 - Present\n"
        "• Supported small-group phonics\n• Led reading interventions for Year 2\n\n"
        + "Education\nBA Education, 2018\n"
        * 3
    )
    result = upload([SimpleUploadedFile("jane.txt", text.encode())])
    candidate = Candidate.objects.get(id=result.outcomes[0].candidate_id)
    assert candidate.processing_stage == Stage.DONE
    assert candidate.postcode == "EC3A 5DE" and candidate.geo_precision == "unit"
    assert (
        abs(float(candidate.latitude) - 51.51366) < 0.001
        and abs(float(candidate.longitude) + 0.07747) < 0.001
    )


def test_scanned_and_corrupt_files_fail_alone_with_reasons(tmp_path, eager_celery, monkeypatch):
    good, _ = cv_upload(tmp_path, 7, "txt")
    truncated = SimpleUploadedFile("broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n" + b"x" * 300)
    monkeypatch.setattr("candidates.pipeline.settings.OCR_ENABLED", False)
    scanned, _ = cv_upload(tmp_path, 8, "scan")
    result = upload([good, truncated, scanned])
    by_name = {c.original_filename: c for c in Candidate.objects.all()}
    assert by_name[good.name].processing_stage == Stage.DONE
    broken = by_name["broken.pdf"]
    assert (broken.processing_stage, broken.failure_stage, broken.failure_code) == (
        Stage.FAILED,
        Stage.EXTRACTING,
        "corrupt_file",
    )
    assert broken.ai_failure_reason
    scan = by_name[scanned.name]
    assert scan.failure_code == "no_text_layer" and scan.quality_status == Quality.MANUAL
    assert scan.quality_reasons == ["no_text_layer"]
    assert Batch.objects.get(id=result.batch.id).finished_at is not None
    assert ActivityLog.objects.filter(event_type="cv_failed").count() == 2


def test_stale_or_repeated_tasks_do_nothing(tmp_path, eager_celery):
    upload_file, _ = cv_upload(tmp_path, 11)
    candidate = Candidate.objects.get(id=upload([upload_file]).outcomes[0].candidate_id)
    assert candidate.processing_stage == Stage.DONE
    pdf = candidate.enhanced_cv
    for stage in (pipeline.extract, pipeline.analyse, pipeline.render):
        stage(candidate.id, candidate.run_id)  # a re-delivered message after completion
        stage(candidate.id, uuid.uuid4())  # a superseded run
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.DONE and candidate.enhanced_cv == pdf
    assert CandidateEmail.objects.filter(candidate=candidate).count() == 1


@contextmanager
def paused(celery_app):
    """Enqueue without running (the messages go to the broker; nothing consumes them in this test)."""
    celery_app.conf.task_always_eager = False
    try:
        yield
    finally:
        celery_app.conf.task_always_eager = True


def test_redelivered_extraction_mid_stage_still_completes(tmp_path, eager_celery):
    upload_file, _ = cv_upload(tmp_path, 12)
    with paused(eager_celery):
        result = upload([upload_file])
    candidate = Candidate.objects.get(id=result.outcomes[0].candidate_id)
    Candidate.objects.filter(id=candidate.id).update(processing_stage=Stage.EXTRACTING)  # worker died here
    pipeline.extract(candidate.id, candidate.run_id)
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.DONE


def test_retry_resumes_from_the_failed_stage(tmp_path, eager_celery, monkeypatch):
    upload_file, _ = cv_upload(tmp_path, 13)
    from core.rendering.errors import RenderError

    def broken(*args, **kwargs):
        raise RenderError("render_failed", "The PDF could not be rendered.")

    monkeypatch.setattr("candidates.documents.render_pdf", broken, raising=False)
    monkeypatch.setattr("core.rendering.render_pdf", broken)
    candidate = Candidate.objects.get(id=upload([upload_file]).outcomes[0].candidate_id)
    assert (candidate.processing_stage, candidate.failure_stage, candidate.failure_code) == (
        Stage.FAILED,
        Stage.RENDERING,
        "pdf_failed",
    )
    text, run = candidate.extracted_text, candidate.run_id
    monkeypatch.undo()
    assert pipeline.retry_candidate(candidate) == Stage.RENDERING
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.DONE and candidate.run_id != run
    assert candidate.ai_retry_count == 1 and candidate.extracted_text == text and not candidate.failure_code
    with pytest.raises(pipeline.NotRetryable):
        pipeline.retry_candidate(candidate)


def test_stuck_candidates_are_requeued_once_then_time_out(tmp_path, eager_celery):
    upload_file, _ = cv_upload(tmp_path, 14)
    with paused(eager_celery):
        candidate = Candidate.objects.get(id=upload([upload_file]).outcomes[0].candidate_id)
    long_ago = timezone.now() - timedelta(hours=2)
    Candidate.objects.filter(id=candidate.id).update(
        processing_stage=Stage.ANALYSING, stage_updated_at=long_ago
    )
    Candidate.objects.filter(id=candidate.id).update(extracted_text="")  # analysis cannot progress
    with paused(eager_celery):
        assert pipeline.reap_stuck_candidates() == {"requeued": 1, "timed_out": 0}
        Candidate.objects.filter(id=candidate.id).update(stage_updated_at=long_ago)
        assert pipeline.reap_stuck_candidates() == {"requeued": 0, "timed_out": 1}
    candidate.refresh_from_db()
    assert (candidate.processing_stage, candidate.failure_code) == (Stage.FAILED, "timeout")


def test_duplicates_are_reported_and_linked_unless_forced(tmp_path, eager_celery):
    upload_file, _ = cv_upload(tmp_path, 15)
    content = upload_file.read()
    first = upload([SimpleUploadedFile("a.txt", content), SimpleUploadedFile("copy.txt", content)])
    original = first.outcomes[0].candidate_id
    assert [o.status for o in first.outcomes] == ["accepted", "duplicate"]
    assert (
        first.outcomes[1].reason["code"] == "duplicate_in_request"
        and first.outcomes[1].duplicate_of == original
    )
    again = upload([SimpleUploadedFile("again.txt", content)])
    assert again.outcomes[0].status == "duplicate" and again.outcomes[0].candidate_id == original
    assert again.batch.uploaded_count == 0 and again.batch.finished_at is not None
    forced = upload([SimpleUploadedFile("forced.txt", content)], force=True)
    assert forced.outcomes[0].status == "accepted" and forced.outcomes[0].duplicate_of == original
    assert Candidate.objects.get(id=forced.outcomes[0].candidate_id).duplicate_of_id == uuid.UUID(original)


def test_rejected_files_are_not_stored_and_nothing_accepted_means_no_batch(tmp_path):
    files = [
        SimpleUploadedFile("empty.pdf", b""),
        SimpleUploadedFile("photo.pdf", b"\xff\xd8\xff\xe0" + b"\x00" * 4000),
        SimpleUploadedFile("legacy.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 4000),
    ]
    result = upload(files)
    assert result.batch is None
    assert [o.reason["code"] for o in result.outcomes] == [
        "empty_file",
        "unsupported_type",
        "unsupported_type",
    ]
    assert "JPEG" in result.outcomes[1].reason["message"]
    assert Candidate.objects.count() == 0


def test_regeneration_only_when_the_rendered_content_changes(tmp_path, eager_celery):
    upload_file, _ = cv_upload(tmp_path, 16)
    candidate = Candidate.objects.get(id=upload([upload_file]).outcomes[0].candidate_id)
    old_pdf = candidate.enhanced_cv
    candidate.notes = "Called on Monday"
    candidate.email = "new.address@example.org"
    assert pipeline.queue_regeneration(candidate) is False  # not shown on the PDF
    candidate.name_without_surname = "Zofia"
    candidate.save()
    assert pipeline.queue_regeneration(candidate) is True
    candidate.refresh_from_db()
    assert candidate.enhanced_cv != old_pdf and not candidate.pending_render_hash
    assert not default_storage.exists(old_pdf)
    text = _pdf_text(candidate.enhanced_cv)
    assert "Zofia" in text
    assert CandidateEmail.objects.filter(candidate=candidate).count() == 1  # never re-sent on regeneration


def test_failed_regeneration_keeps_the_previous_pdf(tmp_path, eager_celery, monkeypatch):
    upload_file, _ = cv_upload(tmp_path, 17)
    candidate = Candidate.objects.get(id=upload([upload_file]).outcomes[0].candidate_id)
    old_pdf = candidate.enhanced_cv
    from core.rendering.errors import RenderError

    def broken(*args, **kwargs):
        raise RenderError("render_failed", "The PDF could not be rendered.")

    monkeypatch.setattr("core.rendering.render_pdf", broken)
    candidate.name_without_surname = "Aoife"
    candidate.save()
    assert pipeline.queue_regeneration(candidate) is True
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.DONE and candidate.enhanced_cv == old_pdf
    assert candidate.pdf_regeneration_error and not candidate.pending_render_hash
    assert default_storage.exists(old_pdf)


def _pdf_text(key: str) -> str:
    from pdfminer.high_level import extract_text

    return extract_text(io.BytesIO(default_storage.open(key).read()))
