"""The spreadsheet import jobs (api.md O12–O15; imports-and-geo.md §1–§4).

Upload (web): the workbook is checked by content and size, stored in object storage at
``imports/<job_id>/<sha256>.<ext>`` and an ``ImportJob`` row is created; a worker reads the file back from
storage (no shared disk) and runs :func:`run_job`:

- rows are read and normalised by ``core.imports`` and matched by ``core.matching`` (the pure core);
- rows are written in chunks of IMPORT_CHUNK_ROWS (1000), one transaction per chunk, with bulk lookups and bulk
  create/update; progress is saved per chunk;
- schools are geocoded in bulk from the offline gazetteer while their chunk is written (created rows and rows
  whose postcode/town/county changed, or still without coordinates; ``manual`` coordinates are never touched);
- a bad row never stops the job; an unreadable file or missing required headers fail it (status ``failed``,
  reason, activity ``import_failed``) — already committed chunks stay and are counted in the partial summary;
- ``dry_run``: the identical processing inside one transaction that is rolled back at the end;
- every skipped, unmatched, ambiguous or failed row goes to a rejects CSV (UTF-8 with BOM, original columns plus
  row, status, code, reason, candidate_urns), stored next to the workbook and served by O15.
"""

import contextlib
import csv
import hashlib
import io
import logging
import tempfile
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import timedelta
from decimal import Decimal
from itertools import batched

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.fields import BooleanField

from accounts.activity import record_activity
from core.imports.contacts import CONTACT_COLUMNS, ContactOutcome, normalise_email, plan_contacts
from core.imports.organizations import (
    ORGANIZATION_COLUMNS,
    OrganizationRecord,
    OrganizationRowValidator,
    organization_key,
)
from core.imports.problems import Problem, unknown_column_problems, warning
from core.imports.spreadsheet import ReaderLimits, SheetRow, SpreadsheetError, detect_format, open_spreadsheet
from core.matching.matcher import School, SchoolIndex
from cvengine.api import APIError

from . import online
from .geocoding import geocode
from .models import Contact, GeocodePrecision, ImportJob, Organization

logger = logging.getLogger(__name__)

Kind = ImportJob.Kind
Status = ImportJob.Status
MAX_REPORTED = 1000  # problems and error strings kept in the summary
REJECT_COLUMNS = ("row", "status", "code", "reason", "candidate_urns")
ONLINE_FOLLOW_UP_BATCH = 200  # organisation ids per background online-geocoding task
NOT_SUPPORTED = "Only .xlsx files are supported."
NO_FILE = "No file provided. Send file as multipart/form-data."
TASK_NOT_FOUND = "Task not found."
RUNNING = (Status.PENDING, Status.PROCESSING)
GEO_FIELDS = ("latitude", "longitude", "geocode_precision", "geocoded_at")
ADDRESS_FIELDS = ("postcode", "town", "county")
CONTACT_VALUE_FIELDS = ("organization_id", "contact_person", "job_title", "is_role_mailbox")
_FORMULA_START = ("=", "@", "\t", "\r")

ProgressCallback = Callable[[int, int | None], None]


class ImportFailed(Exception):
    """The job as a whole cannot go on; ``message`` is shown to the operator."""

    def __init__(self, message: str, code: str = "import_failed"):
        super().__init__(message)
        self.message = message
        self.code = code


# --- upload ---------------------------------------------------------------------------------------------------


def parse_dry_run(data) -> bool:
    raw = data.get("dry_run") if hasattr(data, "get") else None
    if raw in (None, ""):
        return False
    try:
        return BooleanField().to_internal_value(raw)
    except ValidationError:
        raise ValidationError({"dry_run": ["Must be a valid boolean."]})


def _limits() -> ReaderLimits:
    return ReaderLimits(max_file_bytes=settings.IMPORT_MAX_FILE_BYTES)


def _read_upload(upload) -> bytes:
    if upload.size is not None and upload.size > settings.IMPORT_MAX_FILE_BYTES:
        raise _too_large()
    upload.seek(0)
    data = upload.read(settings.IMPORT_MAX_FILE_BYTES + 1)
    if len(data) > settings.IMPORT_MAX_FILE_BYTES:
        raise _too_large()
    return data


def _too_large() -> APIError:
    limit = settings.IMPORT_MAX_FILE_BYTES // (1024 * 1024)
    return APIError(
        f"The file is larger than {limit} MB.", "file_too_large", status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    )


def _conflict(running: ImportJob) -> APIError:
    return APIError(
        "An import of this kind is already running.",
        "import_running",
        status.HTTP_409_CONFLICT,
        task_id=str(running.id),
    )


def _running_job(kind: str) -> ImportJob | None:
    """The job of this kind still pending or processing; a stale one (its worker was lost) is failed first."""
    running = ImportJob.objects.filter(kind=kind, status__in=RUNNING).first()
    if running is None:
        return None
    last_sign = running.progress_at or running.started_at or running.created_at
    if last_sign < timezone.now() - timedelta(seconds=settings.IMPORT_STALE_AFTER_SECONDS):
        _fail(running, "The import stopped without finishing (its worker was lost); start it again.", None)
        return None
    return running


def start_import(kind: str, upload, dry_run: bool, user=None, *, enqueue: bool = True) -> ImportJob:
    """Validate the upload (content, size), store it, create the job and (after commit) queue the worker.

    400 no file / not a spreadsheet (contract wording ``Only .xlsx files are supported.`` plus the reason),
    413 too large, 409 when a job of this kind is still running.
    """
    if upload is None:
        raise APIError(NO_FILE, "no_file")
    data = _read_upload(upload)
    try:
        fmt = detect_format(data, _limits())
    except SpreadsheetError as exc:
        raise APIError(NOT_SUPPORTED, exc.code, reason=exc.message)
    digest = hashlib.sha256(data).hexdigest()
    job = ImportJob(
        id=uuid.uuid4(),
        kind=kind,
        dry_run=dry_run,
        original_filename=(getattr(upload, "name", "") or "")[:255],
        file_sha256=digest,
        created_by=user if user is not None and user.is_authenticated else None,
    )
    job.file = f"imports/{job.id}/{digest}.{fmt}"
    with transaction.atomic():
        running = _running_job(kind)
        if running is not None:
            raise _conflict(running)
        try:
            with transaction.atomic():
                job.save(force_insert=True)
        except IntegrityError:  # another upload won the race for the one running slot
            running = ImportJob.objects.filter(kind=kind, status__in=RUNNING).first()
            raise (
                _conflict(running)
                if running
                else APIError(
                    "The import could not be started; try again.", "import_conflict", status.HTTP_409_CONFLICT
                )
            )
        try:
            job.file = default_storage.save(job.file, ContentFile(data))
        except Exception as exc:
            logger.warning("Import upload could not be stored: %s", type(exc).__name__)
            raise APIError(
                "File storage is unavailable; try again later.",
                "storage_unavailable",
                status.HTTP_503_SERVICE_UNAVAILABLE,
            )
        ImportJob.objects.filter(pk=job.pk).update(file=job.file)
        if enqueue:
            from .tasks import run_import

            transaction.on_commit(lambda: run_import.delay(str(job.id)))
    return job


def started_response(job: ImportJob, request) -> dict:
    label = "Organization" if job.kind == Kind.ORGANIZATIONS else "Contact"
    path = reverse("organizations:import-status", args=[job.id])
    return {
        "message": f"{label} import started.",
        "task_id": str(job.id),
        "note": f"Poll {path} for results.",
        "status_url": request.build_absolute_uri(path),
    }


# --- status ---------------------------------------------------------------------------------------------------


def get_job(task_id) -> ImportJob:
    try:
        pk = uuid.UUID(str(task_id))
    except (TypeError, ValueError):
        raise NotFound(TASK_NOT_FOUND)
    job = ImportJob.objects.filter(pk=pk).first()
    if job is None:
        raise NotFound(TASK_NOT_FOUND)
    return job


def _progress_key(job_id) -> str:
    return f"imports:progress:{job_id}"


def job_status(job: ImportJob, request=None) -> dict:
    """The O14 body for the job's current state."""
    if job.status == Status.PENDING:
        return {"status": "pending", "message": "Import is still in progress."}
    if job.status == Status.PROCESSING:
        done, total = job.rows_done, job.rows_total
        cached = cache.get(
            _progress_key(job.id)
        )  # dry runs commit nothing until the end: progress lives here
        if cached and cached[0] >= done:
            done, total = cached
        return {
            "status": "processing",
            "message": "Import is processing.",
            "progress": {"rows_done": done, "rows_total": total},
        }
    summary = dict(job.summary) if job.summary else None
    if summary is not None:
        summary["rejects_url"] = rejects_url(job, request)
    if job.status == Status.COMPLETED:
        return {"status": "completed", "summary": summary}
    return {"status": "failed", "error": job.error, "summary": summary}


def rejects_url(job: ImportJob, request=None) -> str | None:
    if not job.rejects_file:
        return None
    path = reverse("organizations:import-rejects", args=[job.id])
    return request.build_absolute_uri(path) if request is not None else settings.PUBLIC_BASE_URL + path


def open_rejects(job: ImportJob):
    """The stored rejects CSV (a file object) or 404 when the job has none."""
    if not job.rejects_file:
        raise NotFound("This import has no rejected rows.")
    try:
        return default_storage.open(job.rejects_file, "rb")
    except FileNotFoundError:
        raise NotFound("This import has no rejected rows.")


# --- the report -----------------------------------------------------------------------------------------------


def _csv_safe(value: str | None) -> str:
    """Cells that a spreadsheet would run as a formula are prefixed with an apostrophe (CSV injection)."""
    if not value:
        return ""
    first = value[0]
    if first in _FORMULA_START or (first in "+-" and len(value) > 1 and not value[1].isdigit()):
        return "'" + value
    return value


class Report:
    """Counts, the first problems and the rejects CSV of one job (written to a temporary file as rows come)."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.counts = Counter(
            rows=0,
            created=0,
            updated=0,
            unchanged=0,
            skipped=0,
            unmatched=0,
            ambiguous=0,
            errors=0,
            warnings=0,
        )
        self.problems: list[dict] = []
        self.error_lines: list[str] = []
        self.problem_total = 0
        self.headers: list[str] = []
        self.started_at = timezone.now()
        self._raw = tempfile.TemporaryFile()  # noqa: SIM115  (closed in close())
        self._text = io.TextIOWrapper(self._raw, encoding="utf-8-sig", newline="")
        self._writer = None
        self.rejected = 0
        self.not_geocoded_ids: list = []

    def set_headers(self, headers: list[str]) -> None:
        self.headers = list(headers)
        self._writer = csv.writer(self._text)
        self._writer.writerow([*self.headers, *REJECT_COLUMNS])

    def add_problems(self, problems: Iterable[Problem]) -> None:
        for problem in problems:
            self.problem_total += 1
            if problem.severity == "error":
                self.counts["errors"] += 1
                if len(self.error_lines) < MAX_REPORTED:
                    self.error_lines.append(f"Row {problem.row}: {problem.reason}")
            else:
                self.counts["warnings"] += 1
            if len(self.problems) < MAX_REPORTED:
                self.problems.append(problem.as_dict())

    def reject(self, row: int, original: dict, status_: str, code: str, reason: str, urns=()) -> None:
        self.rejected += 1
        cells = [_csv_safe(original.get(header)) for header in self.headers]
        self._writer.writerow([*cells, row, status_, code, _csv_safe(reason), " ".join(urns)])

    def store_rejects(self) -> str:
        if not self.rejected:
            return ""
        self._text.flush()
        self._raw.seek(0)
        return default_storage.save(f"imports/{self.job.id}/rejects.csv", File(self._raw))

    def close(self) -> None:
        with contextlib.suppress(ValueError):
            self._text.close()

    def summary(self, finished: bool = True) -> dict:
        plural = "organizations" if self.job.kind == Kind.ORGANIZATIONS else "contacts"
        counts = dict(self.counts)
        not_written = counts["skipped"] + counts["unmatched"] + counts["ambiguous"]
        return {
            "kind": self.job.kind,
            "dry_run": self.job.dry_run,
            "total_rows": counts["rows"],
            f"{plural}_created": counts["created"],
            f"{plural}_updated": counts["updated"],
            f"{plural}_unchanged": counts["unchanged"],
            f"{plural}_skipped": not_written,
            "counts": counts,
            "errors": self.error_lines,
            "problems": self.problems,
            "problems_truncated": self.problem_total > len(self.problems),
            "rejects_url": None,
            "started_at": self.started_at.isoformat(),
            "finished_at": timezone.now().isoformat() if finished else None,
        }


def _decisive(problems: list[Problem]) -> Problem | None:
    return next((p for p in problems if p.severity == "error"), None)


# --- organisations ----------------------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    """Cell text as stored: '' for blanks, without NUL characters (PostgreSQL refuses them in text)."""
    return value.replace("\x00", "") if value else ""


def _record_values(record: OrganizationRecord) -> dict:
    return {
        "urn": record.urn,
        "name": _text(record.name),
        "local_authority": _text(record.local_authority),
        "phase": record.phase,
        "gender": record.gender,
        "telephone": _text(record.telephone),
        "street": _text(record.street),
        "address_line_1": _text(record.address_line_1),
        "address_line_2": _text(record.address_line_2),
        "town": _text(record.town),
        "county": _text(record.county),
        "postcode": _text(record.postcode),
    }


def _geo_texts(record: OrganizationRecord) -> list[str]:
    texts = [record.postcode] if record.postcode and record.postcode_valid else []
    if record.town:
        texts.append(", ".join(part for part in (record.town, record.county) if part))
    return texts


class OrganizationImport:
    def __init__(self, job: ImportJob, report: Report, progress: ProgressCallback):
        self.job, self.report, self.progress = job, report, progress
        self.validator = OrganizationRowValidator()
        self.chunk_size = settings.IMPORT_CHUNK_ROWS
        self.now = timezone.now()

    def run(self, data: bytes) -> None:
        with open_spreadsheet(data, ORGANIZATION_COLUMNS, _limits()) as sheet:
            self.report.set_headers(sheet.headers)
            self.report.add_problems(unknown_column_problems(sheet.header_row, sheet.ignored_headers))
            done = 0
            for chunk in sheet.chunks(self.chunk_size):
                results = [self.validator.validate(row) for row in chunk]
                self._write_chunk_with_retry(chunk, results)
                done += len(chunk)
                self.progress(done, None)

    def _write_chunk_with_retry(self, chunk: list[SheetRow], results) -> None:
        for attempt in (1, 2):
            snapshot = (self.report.counts.copy(), list(self.report.not_geocoded_ids))
            try:
                with transaction.atomic():
                    outcome = self._write_chunk(results)
                break
            except IntegrityError:
                # A school was written by someone else between our lookup and the insert: look again once.
                self.report.counts, self.report.not_geocoded_ids = snapshot
                if attempt == 2:
                    raise ImportFailed(
                        f"Rows {chunk[0].number}–{chunk[-1].number} conflict with concurrent changes to the same "
                        "schools; nothing of them was written. Run the import again.",
                        "write_conflict",
                    )
        for sheet_row, result in zip(chunk, results, strict=True):
            problems = list(result.problems) + outcome.get(result.row, [])
            self.report.add_problems(problems)
            if result.record is None:
                reason = _decisive(problems)
                self.report.reject(
                    result.row,
                    sheet_row.original,
                    "skipped",
                    reason.code if reason else "invalid_row",
                    reason.reason if reason else "The row could not be imported.",
                )

    def _existing(self, records: list[OrganizationRecord]) -> tuple[dict, dict]:
        urns = {r.urn for r in records if r.urn}
        by_urn = {o.urn: o for o in Organization.objects.filter(urn__in=urns)} if urns else {}
        postcodes = {r.postcode or "" for r in records if not r.urn}
        by_key: dict = {}
        if postcodes:
            for organization in Organization.objects.filter(
                urn__isnull=True, postcode__in=postcodes
            ).order_by("created_at", "id"):
                key = organization_key(organization.name, organization.local_authority, organization.postcode)
                by_key.setdefault(key, organization)
        return by_urn, by_key

    def _write_chunk(self, results) -> dict[int, list[Problem]]:
        """Upsert the valid rows of one chunk (inside its transaction); returns extra problems per row."""
        counts = self.report.counts
        records = [(result.row, result.record) for result in results if result.record is not None]
        counts["rows"] += len(results)
        counts["skipped"] += len(results) - len(records)
        by_urn, by_key = self._existing([record for _row, record in records])
        created: list[Organization] = []
        updated: dict = {}  # id → organisation
        changed_fields: set[str] = set()
        extra: dict[int, list[Problem]] = {}
        to_geocode: list[tuple[int, OrganizationRecord, Organization, bool]] = []
        for row, record in records:
            values = _record_values(record)
            key = (
                None if record.urn else organization_key(record.name, record.local_authority, record.postcode)
            )
            organization = by_urn.get(record.urn) if record.urn else by_key.get(key)
            if organization is None:
                organization = Organization(**values, created_at=self.now, updated_at=self.now)
                created.append(organization)
                if key is not None:
                    by_key[key] = organization
                to_geocode.append((row, record, organization, True))
                counts["created"] += 1
                continue
            if organization._state.adding:  # a URN-less row repeated in this chunk: same organisation
                for name, value in values.items():
                    setattr(organization, name, value)
                counts["unchanged"] += 1
                continue
            diff = {name for name, value in values.items() if getattr(organization, name) != value}
            for name in diff:
                setattr(organization, name, values[name])
            manual = organization.geocode_precision == GeocodePrecision.MANUAL
            regeocode = not manual and (bool(diff & set(ADDRESS_FIELDS)) or organization.latitude is None)
            if regeocode:
                before = tuple(getattr(organization, name) for name in GEO_FIELDS[:3])
                to_geocode.append((row, record, organization, False))
                organization._geo_before = before
            organization._diff = diff
            updated[organization.pk] = organization
        self._geocode(to_geocode, extra)
        to_update = []
        for organization in updated.values():
            diff = organization._diff
            if hasattr(organization, "_geo_before"):
                after = tuple(getattr(organization, name) for name in GEO_FIELDS[:3])
                if after != organization._geo_before:
                    diff = diff | set(GEO_FIELDS)
            if diff:
                organization.updated_at = self.now
                changed_fields |= diff
                to_update.append(organization)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        if created:
            Organization.objects.bulk_create(created, batch_size=self.chunk_size)
        if to_update:
            Organization.objects.bulk_update(
                to_update, sorted(changed_fields | {"updated_at"}), batch_size=self.chunk_size
            )
        return extra

    def _geocode(self, items, extra: dict[int, list[Problem]]) -> None:
        """Offline gazetteer first; rows it cannot place are looked up in the online cache with one query."""
        misses = []
        for row, record, organization, _new in items:
            texts = _geo_texts(record)
            result = next((found for text in texts if (found := geocode(text))), None)
            if result is None:
                misses.append((row, record, organization, texts))
                continue
            self._place(organization, result.latitude, result.longitude, result.precision)
        if not misses:
            return
        keys = {text: online.cache_key(text) for *_rest, texts in misses for text in texts}
        cached = online.cached_many(set(keys.values()))
        for row, _record, organization, texts in misses:
            hit = next((cached[keys[t]] for t in texts if cached.get(keys[t]) is not None), None)
            if hit is not None:
                self._place(organization, hit.latitude, hit.longitude, "online")
                continue
            organization.latitude = organization.longitude = None
            organization.geocode_precision = None
            organization.geocoded_at = None
            if texts:
                self.report.not_geocoded_ids.append(organization.pk)
            reason = (
                "No coordinates found for the postcode or town; the school is left out of radius searches."
                if texts
                else "No valid postcode and no town: the school cannot be placed."
            )
            extra.setdefault(row, []).append(warning(row, "not_geocoded", reason, "postcode"))

    def _place(self, organization: Organization, latitude: float, longitude: float, precision: str) -> None:
        lat, lng = Decimal(f"{latitude:.6f}"), Decimal(f"{longitude:.6f}")
        if (organization.latitude, organization.longitude, organization.geocode_precision) != (
            lat,
            lng,
            precision,
        ):
            organization.latitude, organization.longitude = lat, lng
            organization.geocode_precision = precision
            organization.geocoded_at = self.now


# --- contacts -------------------------------------------------------------------------------------------------


def school_index() -> SchoolIndex:
    """Every organisation, as the matcher needs it (one streamed query)."""
    rows = Organization.objects.values_list(
        "id", "urn", "name", "local_authority", "town", "street", "postcode"
    ).iterator(chunk_size=5000)
    return SchoolIndex(
        School(pk, urn, name, la, town or None, street or None, postcode or None)
        for pk, urn, name, la, town, street, postcode in rows
    )


def _known_links(rows: list[SheetRow]) -> dict:
    emails = {email for row in rows if (email := normalise_email(row.values.get("work_email")))}
    links: dict = {}
    for batch in batched(sorted(emails), 1000):
        links.update(
            Contact.objects.filter(work_email__in=batch).values_list("work_email", "organization_id")
        )
    return links


_REJECT_STATUS_COUNT = {
    "invalid": "skipped",
    "duplicate": "skipped",
    "unmatched": "unmatched",
    "unknown_local_authority": "unmatched",
    "ambiguous": "ambiguous",
}


class ContactImport:
    def __init__(self, job: ImportJob, report: Report, progress: ProgressCallback):
        self.job, self.report, self.progress = job, report, progress
        self.chunk_size = settings.IMPORT_CHUNK_ROWS
        self.now = timezone.now()

    def run(self, data: bytes) -> None:
        with open_spreadsheet(data, CONTACT_COLUMNS, _limits()) as sheet:
            self.report.set_headers(sheet.headers)
            self.report.add_problems(unknown_column_problems(sheet.header_row, sheet.ignored_headers))
            rows = list(sheet.rows())  # matching evidence (d) needs the whole file
        total = len(rows)
        self.progress(0, total)
        outcomes = plan_contacts(rows, school_index(), _known_links(rows))
        done = 0
        for chunk in batched(outcomes, self.chunk_size):
            self._write_chunk_with_retry(list(chunk))
            done += len(chunk)
            self.progress(done, total)

    def _write_chunk_with_retry(self, chunk: list[ContactOutcome]) -> None:
        for attempt in (1, 2):
            snapshot = self.report.counts.copy()
            try:
                with transaction.atomic():
                    self._write_chunk(chunk)
                break
            except IntegrityError:
                self.report.counts = snapshot
                if attempt == 2:
                    raise ImportFailed(
                        f"Rows {chunk[0].row}–{chunk[-1].row} conflict with concurrent changes to the same "
                        "contacts; nothing of them was written. Run the import again.",
                        "write_conflict",
                    )
        for outcome in chunk:
            self.report.add_problems(outcome.problems)
            if outcome.rejected:
                problem = outcome.decisive_problem
                urns = outcome.match.candidate_urns if outcome.match else ()
                self.report.reject(
                    outcome.row,
                    outcome.original,
                    outcome.status,
                    problem.code if problem else outcome.status,
                    problem.reason if problem else "The row could not be imported.",
                    urns,
                )

    def _write_chunk(self, chunk: list[ContactOutcome]) -> None:
        counts = self.report.counts
        counts["rows"] += len(chunk)
        linked = [outcome for outcome in chunk if outcome.status == "linked"]
        for outcome in chunk:
            if outcome.status != "linked":
                counts[_REJECT_STATUS_COUNT.get(outcome.status, "skipped")] += 1
        emails = [outcome.record.work_email for outcome in linked]
        existing = (
            {c.work_email.lower(): c for c in Contact.objects.filter(work_email__in=emails)} if emails else {}
        )
        created, to_update = [], []
        for outcome in linked:
            record = outcome.record
            values = {
                "organization_id": outcome.organization_id,
                "contact_person": _text(record.contact_person),
                "job_title": _text(record.job_title),
                "is_role_mailbox": record.is_role_mailbox,
            }
            contact = existing.get(record.work_email)
            if contact is None:
                created.append(
                    Contact(
                        **values,
                        work_email=record.work_email,
                        match_method=outcome.match.method or "",
                        created_at=self.now,
                        updated_at=self.now,
                    )
                )
                counts["created"] += 1
                continue
            diff = [name for name, value in values.items() if getattr(contact, name) != value]
            if diff:
                for name in diff:
                    setattr(contact, name, values[name])
                if "organization_id" in diff:
                    contact.match_method = outcome.match.method or ""
                contact.updated_at = self.now
                to_update.append(contact)
                counts["updated"] += 1
            else:
                counts["unchanged"] += 1
        if created:
            Contact.objects.bulk_create(created, batch_size=self.chunk_size)
        if to_update:
            Contact.objects.bulk_update(
                to_update, [*CONTACT_VALUE_FIELDS, "match_method", "updated_at"], batch_size=self.chunk_size
            )


# --- running a job --------------------------------------------------------------------------------------------


class _DryRunRollback(Exception):
    pass


def _read_workbook(job: ImportJob) -> bytes:
    if not job.file:
        raise ImportFailed("The uploaded file is no longer available; upload it again.", "file_missing")
    try:
        with default_storage.open(job.file, "rb") as handle:
            return handle.read()
    except FileNotFoundError:
        raise ImportFailed("The uploaded file is no longer available; upload it again.", "file_missing")
    except OSError as exc:
        if "NoSuchKey" in str(exc) or "404" in str(exc):
            raise ImportFailed("The uploaded file is no longer available; upload it again.", "file_missing")
        raise


def _progress_saver(job: ImportJob, callback: ProgressCallback | None) -> ProgressCallback:
    def save(done: int, total: int | None) -> None:
        cache.set(_progress_key(job.id), (done, total), timeout=6 * 3600)
        if not job.dry_run:  # inside a dry run's transaction the update would stay invisible anyway
            ImportJob.objects.filter(pk=job.pk).update(
                rows_done=done, rows_total=total, progress_at=timezone.now()
            )
        if callback is not None:
            callback(done, total)

    return save


def run_job(job_id, progress: ProgressCallback | None = None) -> ImportJob | None:
    """Run one import job (the worker task and the management commands call this). Idempotent: a finished job
    is left alone; a job re-delivered after a lost worker starts again (upserts make that safe)."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status__in=RUNNING).update(
        status=Status.PROCESSING, started_at=now, progress_at=now, rows_done=0, error=""
    )
    if not claimed:
        return None
    job = ImportJob.objects.get(pk=job_id)
    report = Report(job)
    runner_class = OrganizationImport if job.kind == Kind.ORGANIZATIONS else ContactImport
    runner = runner_class(job, report, _progress_saver(job, progress))
    try:
        data = _read_workbook(job)
        if job.dry_run:
            try:
                with transaction.atomic():
                    runner.run(data)
                    raise _DryRunRollback
            except _DryRunRollback:
                pass
        else:
            runner.run(data)
        job.rejects_file = report.store_rejects()
    except (ImportFailed, SpreadsheetError) as exc:
        _fail(job, exc.message, report, rejects=_store_partial_rejects(report))
        return job
    except SoftTimeLimitExceeded:
        _fail(job, "The import took longer than allowed and was stopped; split the file.", report)
        return job
    except Exception as exc:
        from cvengine.celery import transient_errors

        if isinstance(exc, transient_errors()):
            raise  # the task retries the whole job; upserts make a re-run safe
        logger.exception("Import %s failed unexpectedly", job.id)
        _fail(job, f"The import failed unexpectedly ({type(exc).__name__}).", report)
        return job
    finally:
        report.close()
    _complete(job, report)
    if not job.dry_run:
        _vacuum_analyze(job.kind)
    return job


def _vacuum_analyze(kind: str) -> None:
    """``VACUUM (ANALYZE)`` the table an import wrote (PostgreSQL, outside a transaction block): the planner gets
    statistics for the new rows at once, and the dead versions left by upserts (or by a bulk delete before the
    import) are reclaimed, instead of every radius search wading through them until autovacuum gets there,
    minutes later or, where it is off, never. Best effort: the import is complete either way."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return
    model = Organization if kind == Kind.ORGANIZATIONS else Contact
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")
    except DatabaseError:
        logger.warning("VACUUM (ANALYZE) after the %s import failed", kind, exc_info=True)


def _store_partial_rejects(report: Report) -> str:
    try:
        return report.store_rejects()
    except Exception:  # the job fails anyway; its reason matters more than the partial CSV
        return ""


def _complete(job: ImportJob, report: Report) -> None:
    summary = report.summary()
    counts = summary["counts"]
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.COMPLETED,
        summary=summary,
        rows_done=counts["rows"],
        rows_total=counts["rows"],
        rejects_file=job.rejects_file,
        finished_at=timezone.now(),
        progress_at=timezone.now(),
    )
    cache.delete(_progress_key(job.id))
    label = "Organisation" if job.kind == Kind.ORGANIZATIONS else "Contact"
    event = "org_import_completed" if job.kind == Kind.ORGANIZATIONS else "contact_import_completed"
    rejected = counts["skipped"] + counts["unmatched"] + counts["ambiguous"]
    parts = [
        f"{counts['rows']} rows: {counts['created']} created, {counts['updated']} updated, "
        f"{counts['unchanged']} unchanged, {counts['skipped']} skipped"
    ]
    if job.kind == Kind.CONTACTS:
        parts.append(f"{counts['unmatched']} unmatched, {counts['ambiguous']} ambiguous")
    message = "; ".join(parts) + f"; {counts['warnings']} warning(s)."
    if job.dry_run:
        message = "Dry run, nothing was written. " + message
    record_activity(
        event,
        title=f"{label} import {'checked' if job.dry_run else 'completed'}",
        message=message,
        severity="warning" if rejected else "success",
        actor=job.created_by,
    )
    logger.info("Import %s (%s) completed: %s rows", job.id, job.kind, counts["rows"])
    if not job.dry_run and report.not_geocoded_ids and online.online_enabled():
        from .tasks import geocode_organizations_online

        for ids in batched(report.not_geocoded_ids, ONLINE_FOLLOW_UP_BATCH):
            geocode_organizations_online.delay([str(pk) for pk in ids])


def _fail(job: ImportJob, reason: str, report: Report | None, rejects: str = "") -> None:
    summary = report.summary() if report is not None and report.counts["rows"] else None
    ImportJob.objects.filter(pk=job.pk).update(
        status=Status.FAILED,
        error=reason,
        summary=summary,
        rejects_file=rejects,
        finished_at=timezone.now(),
    )
    cache.delete(_progress_key(job.id))
    label = "Organisation" if job.kind == Kind.ORGANIZATIONS else "Contact"
    record_activity(
        "import_failed",
        title=f"{label} import failed",
        message=reason,
        severity="error",
        actor=job.created_by,
    )
    logger.warning("Import %s (%s) failed", job.id, job.kind)


def fail_after_error(job_id, exc: BaseException) -> None:
    """The task gave up (retries exhausted, time limit): record why, so the job never stays 'processing'."""
    job = ImportJob.objects.filter(pk=job_id, status__in=RUNNING).first()
    if job is not None:
        _fail(job, f"The import could not finish ({type(exc).__name__}); start it again.", None)


def purge_import_files(now=None) -> int:
    """Delete workbooks of jobs older than IMPORT_FILE_RETENTION_DAYS (finished ones); returns how many."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.IMPORT_FILE_RETENTION_DAYS)
    deleted = 0
    jobs = ImportJob.objects.filter(created_at__lt=cutoff).exclude(file="").exclude(status__in=RUNNING)
    for job in jobs.only("id", "file").iterator(chunk_size=200):
        default_storage.delete(job.file)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        deleted += 1
    return deleted
