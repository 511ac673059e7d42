"""The CV pipeline's stage machine (pipeline.md §2–§3, §8):

    queued → extracting → analysing → rendering → done        (any unfinished stage → failed)

Every transition is a conditional UPDATE on (id, run_id, expected stage). When it matches no row the task is
stale — re-delivered, superseded by a retry, or the candidate was deleted — and stops without side effects. So
every task is safe to run twice. Failures always record stage, code and reason and count in the batch.
"""

import io
import logging
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from core.extraction.errors import NO_TEXT_LAYER, ExtractionError
from core.extraction.photo import extract_photo
from core.extraction.text import extract_text
from core.rendering.errors import RenderError

from . import analysis, documents
from .geo import locate_candidate
from .models import UNFINISHED_STAGES, Batch, Candidate, Quality, Stage
from .search import build_search_text

logger = logging.getLogger(__name__)


class NotRetryable(Exception):
    """The candidate is neither failed nor stuck."""


@dataclass(frozen=True)
class Failure:
    code: str
    reason: str


# --- transitions -------------------------------------------------------------------------------------------------


def _move(candidate_id, run_id, from_stages, to_stage, **fields) -> bool:
    """The one way a candidate changes stage: a conditional update. False means the caller is stale."""
    updated = Candidate.objects.filter(
        id=candidate_id, run_id=run_id, processing_stage__in=from_stages
    ).update(processing_stage=to_stage, stage_updated_at=timezone.now(), **fields)
    return updated == 1


def _enqueue(stage: str, candidate_id, run_id) -> None:
    from . import tasks

    task = {
        Stage.EXTRACTING: tasks.extract_cv,
        Stage.ANALYSING: tasks.analyse_cv,
        Stage.RENDERING: tasks.render_cv,
    }
    args = (str(candidate_id), str(run_id))
    transaction.on_commit(lambda: task[stage].delay(*args))


def start(candidates: list[Candidate]) -> None:
    """Enqueue extraction for freshly ingested candidates once the upload transaction commits."""
    for candidate in candidates:
        _enqueue(Stage.EXTRACTING, candidate.id, candidate.run_id)


def fail(candidate_id, run_id, stage: str, failure: Failure, **fields) -> bool:
    """Record a permanent failure of ``stage`` (no-op for a stale run). Counts in the batch at once."""
    with transaction.atomic():  # the failure and its activity entry: both or neither (a killed worker)
        moved = _move(
            candidate_id,
            run_id,
            [stage],
            Stage.FAILED,
            failure_stage=stage,
            failure_code=failure.code,
            ai_failure_reason=failure.reason[:2000],
            **fields,
        )
        if moved:
            candidate = Candidate.objects.only("id", "name", "original_filename", "batch_id").get(
                id=candidate_id
            )
            _activity(
                "cv_failed",
                severity="error",
                title="CV processing failed",
                message=f"{candidate.original_filename or 'A CV'}: {failure.reason}",
                candidate=candidate,
            )
            _finish_batch_after_commit(candidate.batch_id)
    return moved


# --- stages --------------------------------------------------------------------------------------------------------


def extract(candidate_id, run_id) -> None:
    """queued → extracting → analysing: text (OCR when needed) and photo from the stored original."""
    if not _move(candidate_id, run_id, [Stage.QUEUED, Stage.EXTRACTING], Stage.EXTRACTING):
        return
    candidate = Candidate.objects.only(
        "id", "original_file", "file_type", "profile_photo", "edited_fields"
    ).get(id=candidate_id)
    with default_storage.open(candidate.original_file, "rb") as stored:
        source = io.BytesIO(stored.read())  # ≤ UPLOAD_MAX_FILE_BYTES; read once, used for text and photo
    try:
        document = extract_text(source, candidate.file_type, ocr=None if settings.OCR_ENABLED else False)
    except ExtractionError as exc:
        extra = {}
        if exc.code == NO_TEXT_LAYER:  # scanned: a person must look at it (quality rule 1)
            extra = {"quality_status": Quality.MANUAL, "quality_reasons": [NO_TEXT_LAYER]}
        fail(candidate_id, run_id, Stage.EXTRACTING, Failure(exc.code, exc.message), **extra)
        return
    keep_photo = "profile_photo" in (candidate.edited_fields or [])  # an operator's choice stays
    photo = None if keep_photo else extract_photo(source, candidate.file_type)
    photo_key = documents.store_photo(candidate.id, photo) if photo else ""
    if _move(
        candidate_id,
        run_id,
        [Stage.EXTRACTING],
        Stage.ANALYSING,
        extracted_text=document.text,
        text_from_ocr=document.ocr_used,
        profile_photo=photo_key or candidate.profile_photo,
    ):
        if photo_key and candidate.profile_photo and candidate.profile_photo != photo_key:
            documents.delete_later([candidate.profile_photo])
        _enqueue(Stage.ANALYSING, candidate_id, run_id)


def analyse(candidate_id, run_id) -> None:
    """analysing → rendering: structured profile, quality, anonymised texts, coordinates.

    In-process providers (offline, llm) finish here; the remote provider submits the file to the AI service and
    its polling task calls :func:`complete_analysis` when the result arrives.
    """
    candidate = (
        Candidate.objects.select_related("batch")
        .filter(id=candidate_id, run_id=run_id, processing_stage=Stage.ANALYSING)
        .first()
    )
    if candidate is None:
        return
    hints = candidate.batch.additional_info if candidate.batch else {}
    if settings.AI_PROVIDER == "remote":
        from .remote import submit

        submit(candidate, hints)
        return
    try:
        stored = analysis.analyse(
            candidate.extracted_text,
            has_photo=bool(candidate.profile_photo),
            hints=hints,
            ocr_used=candidate.text_from_ocr,
            sha256=candidate.file_sha256,
        )
    except analysis.AnalysisFailed as exc:
        fail(candidate_id, run_id, Stage.ANALYSING, Failure(exc.code, exc.message))
        return
    complete_analysis(candidate, stored)


def complete_analysis(candidate: Candidate, stored: dict) -> bool:
    """Map a provider's stored result onto the candidate and move it on to rendering (False when stale)."""
    fields = analysis.candidate_fields(candidate, stored)
    for name, value in fields.items():
        setattr(candidate, name, value)
    fields["search_text"] = build_search_text(candidate)
    fields.update(locate_candidate(candidate, save=False))
    if _move(candidate.id, candidate.run_id, [Stage.ANALYSING], Stage.RENDERING, **fields):
        _enqueue(Stage.RENDERING, candidate.id, candidate.run_id)
        return True
    return False


def render(candidate_id, run_id) -> None:
    """rendering → done: the enhanced PDF is stored; first completion sends the availability e-mail."""
    candidate = Candidate.objects.filter(
        id=candidate_id, run_id=run_id, processing_stage=Stage.RENDERING
    ).first()
    if candidate is None:
        return
    try:
        key, digest = documents.render_and_store(candidate)
    except RenderError as exc:
        fail(candidate_id, run_id, Stage.RENDERING, Failure("pdf_failed", exc.message))
        return
    previous = candidate.enhanced_cv
    # Done, its activity entry and the availability e-mail record commit together: a worker killed in between
    # must not leave a finished candidate whose e-mail is never queued (its re-delivered task would be stale).
    with transaction.atomic():
        if not _move(
            candidate_id,
            run_id,
            [Stage.RENDERING],
            Stage.DONE,
            enhanced_cv=key,
            enhanced_cv_hash=digest,
            pending_render_hash="",
            pdf_regeneration_error="",
        ):
            _drop_if_orphaned(candidate_id, key)
            return
        if previous and previous != key:
            documents.delete_later([previous])
        candidate.refresh_from_db()
        _activity(
            "cv_processed",
            severity="success",
            title="CV processed",
            message=f"{candidate.name_without_surname or 'Candidate'}: enhanced CV ready ({candidate.quality_status}).",
            candidate=candidate,
        )
        _queue_availability_email(candidate)
        _finish_batch_after_commit(candidate.batch_id)


def resume_after_redelivery(stage: str, candidate_id, run_id) -> None:
    """A stage task came back from a worker that died mid-task. When the stage had already committed, its
    follow-up (sent on commit) may have died with the worker, and the re-delivered task is now stale: send the
    follow-up again. Each follow-up is a conditional update or claims its record, so a duplicate does nothing."""
    current = (
        Candidate.objects.filter(id=candidate_id, run_id=run_id)
        .values_list("processing_stage", flat=True)
        .first()
    )
    following = {Stage.EXTRACTING: Stage.ANALYSING, Stage.ANALYSING: Stage.RENDERING}.get(stage)
    if following and current == following:
        _enqueue(following, candidate_id, run_id)
    elif stage == Stage.RENDERING and current == Stage.DONE:
        from outreach.services import requeue_pending_availability_email

        requeue_pending_availability_email(candidate_id)


def fail_after_error(stage: str, candidate_id, run_id, exc: BaseException) -> None:
    """A stage task finally failed (transient errors outlasted the retries, or an unexpected error): record why."""
    from cvengine.celery import TransientError, is_transient

    if is_transient(exc):
        codes = {
            Stage.EXTRACTING: "storage_failed",
            Stage.ANALYSING: "ai_unavailable",
            Stage.RENDERING: "pdf_failed",
        }
        # Our own TransientError carries a reason written for people ("The LLM server answered HTTP 503.").
        detail = str(exc).strip() if isinstance(exc, TransientError) else ""
        detail = detail or f"{type(exc).__name__}."
        failure = Failure(codes[stage], f"Gave up after retries: {detail}")
    else:
        logger.exception("Unexpected error in stage %s of candidate %s", stage, candidate_id, exc_info=exc)
        failure = Failure("internal_error", f"Unexpected error: {type(exc).__name__}.")
    fail(candidate_id, run_id, stage, failure)


# --- regeneration (pipeline.md §8) ----------------------------------------------------------------------------------


def queue_regeneration(candidate: Candidate, rewrite_task_id=None) -> bool:
    """Queue a re-render if the rendered content would change. True when a render was queued.

    Only finished candidates are re-rendered this way; one still in the pipeline renders its latest data anyway.
    """
    if candidate.processing_stage != Stage.DONE:
        return False
    digest = documents.context_digest(candidate)
    if digest in (candidate.enhanced_cv_hash, candidate.pending_render_hash):
        return False
    Candidate.objects.filter(id=candidate.id).update(pending_render_hash=digest, pdf_regeneration_error="")
    candidate.pending_render_hash = digest
    from .tasks import regenerate_pdf

    args = (str(candidate.id), digest, str(rewrite_task_id) if rewrite_task_id else None)
    transaction.on_commit(lambda: regenerate_pdf.delay(*args))
    return True


def regenerate(candidate_id, digest: str, rewrite_task_id=None) -> None:
    """Render the queued content; the previous PDF stays until the new one is stored."""
    candidate = Candidate.objects.filter(id=candidate_id, pending_render_hash=digest).first()
    if candidate is None:
        return  # superseded by a newer edit, or deleted
    try:
        key, rendered = documents.render_and_store(candidate)
    except RenderError as exc:
        regeneration_failed(candidate_id, digest, rewrite_task_id, exc)
        return
    previous = candidate.enhanced_cv
    updated = Candidate.objects.filter(id=candidate_id, pending_render_hash=digest).update(
        enhanced_cv=key, enhanced_cv_hash=rendered, pending_render_hash="", pdf_regeneration_error=""
    )
    if not updated:
        _drop_if_orphaned(candidate_id, key)  # a newer edit won the race; its own render will follow
        return
    if previous and previous != key:
        documents.delete_later([previous])
    if rewrite_task_id:
        from .rewrite import complete_rewrite

        complete_rewrite(candidate_id, rewrite_task_id)


def _drop_if_orphaned(candidate_id, key: str) -> None:
    """A stale render stored ``key``: delete it if its candidate is gone (deletion swept the folder before).

    Keys are content-addressed and may be in use by a newer run of a living candidate, so those stay; the
    candidate's folder is swept when it is deleted.
    """
    if not Candidate.objects.filter(id=candidate_id).exists():
        documents.delete_later([key])


def regeneration_failed(candidate_id, digest: str, rewrite_task_id, exc: BaseException) -> None:
    """Keep the previous PDF and the done stage; record the error (the reference marked the CV failed)."""
    reason = f"PDF regeneration failed: {type(exc).__name__}."
    Candidate.objects.filter(id=candidate_id, pending_render_hash=digest).update(
        pending_render_hash="", pdf_regeneration_error=reason
    )
    logger.warning("PDF regeneration failed for candidate %s: %s", candidate_id, type(exc).__name__)
    if rewrite_task_id:
        from .rewrite import fail_rewrite

        fail_rewrite(candidate_id, rewrite_task_id, reason)


# --- retries and stuck candidates ----------------------------------------------------------------------------------


def _stuck_before():
    return timezone.now() - timedelta(seconds=settings.PROCESSING_STUCK_AFTER_SECONDS)


def retry_candidate(candidate: Candidate) -> str:
    """Start a new run from the failed (or stuck) stage; returns that stage. Raises NotRetryable."""
    if candidate.processing_stage == Stage.FAILED:
        from_stage = candidate.failure_stage or Stage.EXTRACTING
    elif candidate.processing_stage in UNFINISHED_STAGES and candidate.stage_updated_at < _stuck_before():
        from_stage = candidate.processing_stage
    else:
        raise NotRetryable(candidate.ai_processing_status)
    if from_stage == Stage.QUEUED:
        from_stage = Stage.EXTRACTING
    if from_stage == Stage.ANALYSING and not candidate.extracted_text:
        from_stage = Stage.EXTRACTING
    run_id = uuid.uuid4()
    updated = Candidate.objects.filter(
        id=candidate.id, run_id=candidate.run_id, processing_stage=candidate.processing_stage
    ).update(
        run_id=run_id,
        processing_stage=from_stage,
        stage_updated_at=timezone.now(),
        ai_retry_count=candidate.ai_retry_count + 1,
        failure_stage="",
        failure_code="",
        ai_failure_reason="",
        requeued_at=None,
    )
    if not updated:
        raise NotRetryable(candidate.ai_processing_status)  # changed under us; the caller may try again
    Batch.objects.filter(id=candidate.batch_id).update(finished_at=None)
    candidate.refresh_from_db()
    _enqueue(from_stage, candidate.id, run_id)
    return from_stage


def retry_failed(batch: Batch) -> list[str]:
    """Re-queue every failed candidate of the batch; returns their ids."""
    retried = []
    for candidate in batch.candidates.filter(processing_stage=Stage.FAILED):
        try:
            retry_candidate(candidate)
        except NotRetryable:
            continue
        retried.append(str(candidate.id))
    return retried


def reap_stuck_candidates() -> dict[str, int]:
    """Candidates with no transition for PROCESSING_STUCK_AFTER_SECONDS: re-enqueue once, then time out."""
    stuck = Candidate.objects.filter(
        processing_stage__in=UNFINISHED_STAGES, stage_updated_at__lt=_stuck_before()
    )
    requeued = timed_out = 0
    for candidate_id, run_id, stage, requeued_at in stuck.values_list(
        "id", "run_id", "processing_stage", "requeued_at"
    )[:1000]:
        if requeued_at is None:
            if Candidate.objects.filter(id=candidate_id, run_id=run_id, processing_stage=stage).update(
                requeued_at=timezone.now(), stage_updated_at=timezone.now()
            ):
                _enqueue(Stage.EXTRACTING if stage == Stage.QUEUED else stage, candidate_id, run_id)
                requeued += 1
        elif fail(candidate_id, run_id, stage, Failure("timeout", f"No progress while {stage}; timed out.")):
            timed_out += 1
    return {"requeued": requeued, "timed_out": timed_out}


# --- batch completion ----------------------------------------------------------------------------------------------


def _finish_batch_after_commit(batch_id) -> None:
    """Check for the batch's end once this transition is visible: two candidates finishing in concurrent
    transactions would otherwise each still see the other unfinished."""
    transaction.on_commit(lambda: finish_batch_if_complete(batch_id))


def finish_batch_if_complete(batch_id) -> None:
    """When the last unfinished candidate finishes, set finished_at once and write exactly one activity entry."""
    if batch_id is None:
        return
    unfinished = Candidate.objects.filter(batch_id=OuterRef("pk"), processing_stage__in=UNFINISHED_STAGES)
    if not Batch.objects.filter(~Exists(unfinished), id=batch_id, finished_at__isnull=True).update(
        finished_at=timezone.now()
    ):
        return
    counts = Candidate.objects.filter(batch_id=batch_id).aggregate(
        done=Count("id", filter=Q(processing_stage=Stage.DONE)),
        failed=Count("id", filter=Q(processing_stage=Stage.FAILED)),
    )
    done, failed = counts["done"], counts["failed"]
    if done:
        _activity(
            "batch_completed",
            severity="warning" if failed else "success",
            title="Batch completed",
            message=f"{done} CV(s) processed, {failed} failed.",
            batch_id=batch_id,
        )
    elif failed:
        _activity(
            "batch_failed",
            severity="error",
            title="Batch failed",
            message=f"All {failed} CV(s) failed.",
            batch_id=batch_id,
        )


# --- collaborators ---------------------------------------------------------------------------------------------------


def _activity(
    event_type: str, *, severity: str, title: str, message: str, candidate=None, batch_id=None
) -> None:
    from accounts.activity import record_activity

    record_activity(
        event_type,
        title=title,
        message=message,
        severity=severity,
        candidate_id=candidate.id if candidate else None,
        batch_id=candidate.batch_id if candidate else batch_id,
    )


def _queue_availability_email(candidate: Candidate) -> None:
    from outreach.services import queue_availability_email

    queue_availability_email(candidate)
