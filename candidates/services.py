"""Operator actions on candidates and batches (api.md C5, C6, C9, C14, C15, C16).

Views validate input and call these; pipeline work is delegated to ``candidates.pipeline``, ``candidates.geo``
and ``candidates.rewrite``. Files are deleted by ``cvengine.tasks.cleanup_files`` after the transaction commits.
"""

import logging
import uuid
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError

from cvengine.api import APIError

from . import photos
from .models import Batch, Candidate, RewriteStatus
from .search import SEARCH_FIELDS, refresh_search_text
from .selectors import candidate_files, candidate_prefixes

logger = logging.getLogger(__name__)

CANDIDATE_NOT_FOUND = "Candidate not found."
BATCH_NOT_FOUND = "Batch not found."
EMAIL_TAKEN = "A candidate with this email already exists."
GEO_FIELDS = ("location", "postcode")
CLEANUP_CHUNK = 200  # candidates per cleanup task: bounded work per task (prefix listings on S3)


def parse_id(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None


def get_candidate(candidate_id, queryset=None, *, lock: bool = False) -> Candidate:
    """The candidate or 404 ``Candidate not found.`` (a malformed id is simply not found)."""
    pk = parse_id(candidate_id)
    queryset = Candidate.objects.all() if queryset is None else queryset
    if lock:
        queryset = queryset.select_for_update()
    candidate = queryset.filter(pk=pk).first() if pk else None
    if candidate is None:
        raise NotFound(CANDIDATE_NOT_FOUND)
    return candidate


def get_batch(batch_id, queryset=None, *, lock: bool = False) -> Batch:
    pk = parse_id(batch_id)
    queryset = Batch.objects.all() if queryset is None else queryset
    if lock:
        queryset = queryset.select_for_update()
    batch = queryset.filter(pk=pk).first() if pk else None
    if batch is None:
        raise NotFound(BATCH_NOT_FOUND)
    return batch


def queue_cleanup(names: list[str], prefixes: list[str] = ()) -> None:
    """Delete files (and folders) once the surrounding transaction commits; a rollback loses nothing."""
    names, prefixes = [n for n in names if n], list(prefixes)
    if not names and not prefixes:
        return
    from cvengine.tasks import cleanup_files

    transaction.on_commit(lambda: cleanup_files.delay(names, prefixes))


# --- C5 update ---------------------------------------------------------------------------------------------------


@dataclass
class UpdateResult:
    candidate: Candidate
    changed: list[str]
    regenerating: bool


def update_candidate(candidate_id, data: dict) -> UpdateResult:
    """Apply validated C5 fields; record every changed field in ``edited_fields``.

    ``data["profile_photo"]`` is re-encoded JPEG bytes (new picture) or None (remove). After saving: a PDF
    re-render is queued when the rendered content changed, and coordinates are recomputed when ``location`` or
    ``postcode`` changed (pipeline.md §8, imports-and-geo.md §6).
    """
    new_photo_key = old_photo = None
    try:
        with transaction.atomic():
            candidate = get_candidate(candidate_id, Candidate.objects.defer("extracted_text"), lock=True)
            changed = []
            old_photo = candidate.profile_photo
            for field, value in data.items():
                if field == "profile_photo":
                    if value is None:
                        new_value = ""
                    else:
                        new_value = new_photo_key = photos.store_jpeg(
                            f"candidates/photos/{candidate.id}", value
                        )
                    if new_value != old_photo:
                        candidate.profile_photo = new_value
                        changed.append(field)
                elif getattr(candidate, field) != value:
                    setattr(candidate, field, value)
                    changed.append(field)
            regenerating = False
            if changed:
                candidate.edited_fields = [
                    *(candidate.edited_fields or []),
                    *(f for f in changed if f not in (candidate.edited_fields or [])),
                ]
                update_fields = [*changed, "edited_fields", "updated_at"]
                if any(f in SEARCH_FIELDS for f in changed) and refresh_search_text(candidate):
                    update_fields.append("search_text")
                try:
                    with transaction.atomic():
                        candidate.save(update_fields=update_fields)
                except IntegrityError:
                    if "email" in changed:
                        raise ValidationError({"email": [EMAIL_TAKEN]})
                    raise
                if "profile_photo" in changed and old_photo:
                    queue_cleanup([old_photo])
                from . import pipeline

                regenerating = bool(pipeline.queue_regeneration(candidate))
                if any(f in GEO_FIELDS for f in changed):
                    from .geo import locate_candidate

                    locate_candidate(candidate)
    except BaseException:
        if new_photo_key and new_photo_key != old_photo:
            _forget_file(new_photo_key)
        raise
    fresh = get_candidate(candidate.pk, Candidate.objects.defer("extracted_text", "search_text"))
    return UpdateResult(fresh, changed, regenerating or bool(fresh.pending_render_hash))


def _forget_file(name: str) -> None:
    """A file stored for an update that did not commit: remove it unless some candidate uses it."""
    from cvengine.storage import delete_files

    try:
        if not Candidate.objects.filter(profile_photo=name).exists():
            delete_files([name])
    except Exception:  # best effort: the update's own error is what the caller must see
        logger.warning("Could not remove an orphaned photo after a failed update.", exc_info=True)


# --- C6 / C14 delete ----------------------------------------------------------------------------------------------


def delete_candidate(candidate_id) -> tuple[str, int]:
    """Delete the candidate (its outreach records cascade) and queue every stored file. → (label, files)."""
    with transaction.atomic():
        candidate = get_candidate(
            candidate_id,
            Candidate.objects.only("id", "name", "original_file", "enhanced_cv", "profile_photo"),
            lock=True,
        )
        label = candidate.name or str(candidate.id)
        names, prefixes = candidate_files(candidate)
        candidate.delete()
        queue_cleanup(names, prefixes)
    return label, len(names)


def delete_batch(batch_id) -> tuple[int, int]:
    """Delete the batch and its candidates; queue all their files. → (candidates deleted, files queued)."""
    with transaction.atomic():
        batch = get_batch(batch_id, lock=True)
        rows = list(
            Candidate.objects.filter(batch=batch).values_list(
                "id", "original_file", "enhanced_cv", "profile_photo"
            )
        )
        Candidate.objects.filter(batch=batch).delete()
        batch.delete()
        files = 0
        for start in range(0, len(rows), CLEANUP_CHUNK):
            chunk = rows[start : start + CLEANUP_CHUNK]
            names = [name for row in chunk for name in row[1:] if name]
            files += len(names)
            queue_cleanup(names, [prefix for row in chunk for prefix in candidate_prefixes(row[0])])
    return len(rows), files


# --- C9 rewrite ---------------------------------------------------------------------------------------------------


def start_rewrite(candidate_id, instruction: str, user) -> uuid.UUID:
    """C9 checks in order under a row lock, then hand over to the rewrite worker."""
    with transaction.atomic():
        candidate = get_candidate(candidate_id, Candidate.objects.defer("extracted_text"), lock=True)
        content = candidate.ai_enhanced_cv_content
        if not content:
            raise APIError("No AI content found. Cannot rewrite.", "no_ai_content")
        if candidate.rewrite_status == RewriteStatus.PROCESSING:
            raise APIError(
                "Rewrite already in progress.",
                "rewrite_in_progress",
                rewrite_task_id=str(candidate.rewrite_task_id) if candidate.rewrite_task_id else None,
            )
        if not isinstance(content, dict) or not content.get("data_extracted"):
            raise APIError("data_extracted is empty. Cannot rewrite.", "data_extracted_empty")
        from . import rewrite

        return rewrite.start_rewrite(candidate, instruction or "", user)


# --- C15 / C16 retry ----------------------------------------------------------------------------------------------


def retry_candidate(candidate_id) -> tuple[Candidate, str]:
    from . import pipeline

    with transaction.atomic():
        candidate = get_candidate(candidate_id, lock=True)
        try:
            from_stage = pipeline.retry_candidate(candidate)
        except pipeline.NotRetryable:
            raise APIError(
                "Candidate is not failed or stuck.",
                "not_retryable",
                status.HTTP_409_CONFLICT,
                ai_processing_status=candidate.ai_processing_status,
            )
    return candidate, str(from_stage)


def retry_failed(batch_id) -> list[str]:
    from . import pipeline

    with transaction.atomic():
        batch = get_batch(batch_id, lock=True)
        return [str(candidate_id) for candidate_id in pipeline.retry_failed(batch)]
