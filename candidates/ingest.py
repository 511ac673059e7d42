"""Upload ingest (api.md C2, pipeline.md §4): sniff, hash, de-duplicate, store, then create the batch atomically.

Files arrive spooled to disk by the upload handler and are streamed to storage — nothing holds a whole request
in memory. Storage writes happen before the database transaction (and are removed again if it fails), so the
batch and its candidates appear together or not at all, and extraction is enqueued only after commit.
"""

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from core.extraction.errors import TOO_LARGE, ExtractionError
from core.extraction.filetypes import sniff
from cvengine import storage

from . import documents, pipeline
from .models import Batch, Candidate, Source, Stage

CHUNK = 1024 * 1024
# One long-lived pool per process: S3 connections are per thread (django-storages), so threads that live as long
# as the process set up their boto3 session once instead of once per upload request.
_store_pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="cv-store")


@dataclass
class FileOutcome:
    index: int
    filename: str
    size: int
    sha256: str | None = None
    detected_type: str | None = None
    status: str = "accepted"  # accepted | duplicate | rejected
    candidate_id: str | None = None
    duplicate_of: str | None = None
    reason: dict | None = None

    def reject(self, code: str, message: str) -> None:
        self.status, self.reason = "rejected", {"code": code, "message": message}

    def duplicate(self, code: str, message: str, of: str) -> None:
        self.status, self.reason, self.candidate_id, self.duplicate_of = (
            "duplicate",
            {"code": code, "message": message},
            of,
            of,
        )


@dataclass
class IngestResult:
    batch: Batch | None
    outcomes: list[FileOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def _sha256(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks(CHUNK):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _inspect(index: int, upload) -> FileOutcome:
    """Size, type (by content only) and hash of one uploaded file."""
    outcome = FileOutcome(index=index, filename=(upload.name or "")[:255], size=upload.size or 0)
    try:
        outcome.detected_type = sniff(upload.file, max_bytes=settings.UPLOAD_MAX_FILE_BYTES).value
    except ExtractionError as exc:
        outcome.reject(exc.code, exc.message)
        return outcome
    if outcome.size > settings.UPLOAD_MAX_FILE_BYTES:  # sniff checks too; kept for non-seekable edge cases
        outcome.reject(
            TOO_LARGE, f"The file is larger than {settings.UPLOAD_MAX_FILE_BYTES // 1_000_000} MB."
        )
        return outcome
    outcome.sha256 = _sha256(upload)
    return outcome


def _mark_duplicates(outcomes: list[FileOutcome], force: bool) -> dict[str, str]:
    """Repeats within the request are always duplicates; repeats of stored CVs unless ``force``.

    Returns {sha256: existing candidate id} for files processed anyway under ``force`` (their duplicate_of).
    """
    hashes = {o.sha256 for o in outcomes if o.status == "accepted"}
    existing = dict(
        Candidate.objects.filter(file_sha256__in=hashes)
        .order_by("created_at")
        .values_list("file_sha256", "id")
    )
    first_in_request: dict[str, FileOutcome] = {}
    forced: dict[str, str] = {}
    for outcome in outcomes:
        if outcome.status != "accepted":
            continue
        if (first := first_in_request.get(outcome.sha256)) is not None:
            of = first.candidate_id or first.duplicate_of
            outcome.duplicate("duplicate_in_request", f"Same file as #{first.index} ({first.filename}).", of)
            continue
        first_in_request[outcome.sha256] = outcome
        if outcome.sha256 in existing:
            if force:
                forced[outcome.sha256] = str(existing[outcome.sha256])
            else:
                of = str(existing[outcome.sha256])
                outcome.duplicate("duplicate_existing", "This CV has already been uploaded.", of)
                continue
        outcome.candidate_id = str(uuid.uuid4())
    return forced


def ingest(uploads: list, additional_info: dict, user, force: bool = False) -> IngestResult:
    """Ingest an upload request; returns the batch (None when nothing was accepted) and per-file outcomes."""
    outcomes = [_inspect(index, upload) for index, upload in enumerate(uploads)]
    forced = _mark_duplicates(outcomes, force)
    accepted = [(o, uploads[o.index]) for o in outcomes if o.status == "accepted"]
    if not accepted and not any(o.status == "duplicate" for o in outcomes):
        return IngestResult(batch=None, outcomes=outcomes)

    keys = {o.index: documents.original_key(o.candidate_id, o.sha256, o.detected_type) for o, _ in accepted}

    def store(item):
        outcome, upload = item
        upload.seek(0)
        # The stored object's type is the detected one (S3 would otherwise keep the client's Content-Type claim).
        upload.content_type = storage.guess_content_type(keys[outcome.index])
        return default_storage.save(keys[outcome.index], upload)

    stored = list(_store_pool.map(store, accepted))
    try:
        with transaction.atomic():
            batch = Batch.objects.create(
                created_by=user if getattr(user, "is_authenticated", False) else None,
                additional_info=additional_info,
                uploaded_count=len(accepted),
                duplicate_count=sum(1 for o in outcomes if o.status == "duplicate"),
                rejected_count=sum(1 for o in outcomes if o.status == "rejected"),
                files=[asdict(o) for o in outcomes],
            )
            candidates = Candidate.objects.bulk_create(
                [
                    Candidate(
                        id=outcome.candidate_id,
                        batch=batch,
                        source=Source.LOCAL_UPLOAD,
                        processing_stage=Stage.QUEUED,
                        original_file=keys[outcome.index],
                        original_filename=outcome.filename,
                        file_type=outcome.detected_type,
                        file_size=outcome.size,
                        file_sha256=outcome.sha256,
                        duplicate_of_id=forced.get(outcome.sha256),
                        created_by=batch.created_by,
                    )
                    for outcome, _ in accepted
                ],
                batch_size=500,
            )
            for outcome, _ in accepted:
                if outcome.sha256 in forced:
                    outcome.duplicate_of = forced[outcome.sha256]
            if forced:
                batch.files = [asdict(o) for o in outcomes]
                batch.save(update_fields=["files"])
            pipeline.start(candidates)
            _record_upload(batch, len(accepted))
    except Exception:
        documents.delete_later(stored)  # outside any transaction now: queued at once
        raise
    if not batch.uploaded_count:  # duplicates only: nothing will ever finish, so it is finished now
        pipeline.finish_batch_if_complete(batch.id)
        batch.refresh_from_db(fields=["finished_at"])
    return IngestResult(batch=batch, outcomes=outcomes)


def _record_upload(batch: Batch, accepted: int) -> None:
    from accounts.activity import record_activity

    record_activity(
        "batch_uploaded",
        title="CVs uploaded",
        message=f"{accepted} CV(s) accepted, {batch.duplicate_count} duplicate, {batch.rejected_count} rejected.",
        actor=batch.created_by,
        batch_id=batch.id,
    )
