"""Outreach writes: suppressions, the availability e-mail, send-to-contacts jobs and their per-contact records.

Idempotency (pipeline.md §9, §11, §12):

- Availability: a ``CandidateEmail`` row unique on (candidate, kind) is inserted when the e-mail is queued; the task
  claims it with a conditional update ``pending → sending`` before calling the provider, so a repeated trigger or a
  re-delivered task can never send twice. Permanent failures stay ``failed`` on the record.
- Outreach: one ``OutreachMessage`` per contact, created ``queued`` with the job. A worker holds a lease on the job
  while it runs, claims rows ``queued → sending`` immediately before the provider call and records ``sent`` with the
  provider's id right after. A re-delivered job skips ``sent`` rows; a row left ``sending`` by a crashed worker is
  marked failed rather than sent again (its fate is unknown). Transient errors put rows back to ``queued`` and the
  task retries the pass with backoff (at most 3 retries per message); permanent errors mark the row ``failed``.
"""

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Count, F, Max, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from kombu.exceptions import KombuError
from rest_framework import status

from candidates.models import Candidate
from cvengine.api import APIError
from cvengine.celery import transient_errors
from organizations.models import Contact

from . import messages, transport
from .models import CandidateEmail, OutreachJob, OutreachMessage, Suppression
from .unsubscribe import normalise_email, read_token

logger = logging.getLogger(__name__)

MESSAGE_RETRIES = 3  # transient failures retried per message (send_outreach retries its pass this many times)
AVAILABILITY_TIME_LIMIT = 90  # seconds (send_availability_email hard limit)
OUTREACH_TIME_LIMIT = 1900  # seconds (send_outreach hard limit)
INTERRUPTED = "Interrupted while sending; not re-sent automatically to avoid a duplicate e-mail."
LOCKED_REASONS = frozenset({Suppression.Reason.UNSUBSCRIBE, Suppression.Reason.SPAM_REPORT})
Status = OutreachMessage.Status


@dataclass(frozen=True)
class Outcome:
    """What a task should do next: nothing, or retry later (transient failure)."""

    retry: bool = False
    retry_after: float | None = None
    reason: str = ""


# --- activity log -------------------------------------------------------------------------------------------


def record_activity(event_type: str, **fields) -> None:
    """accounts.activity.record_activity; a failure to log never undoes or breaks the e-mail work it reports."""
    try:
        from accounts.activity import record_activity as record

        with transaction.atomic():
            record(event_type, **fields)
    except Exception:
        logger.warning("Activity entry %s could not be recorded.", event_type, exc_info=True)


# --- suppressions -------------------------------------------------------------------------------------------


def is_suppressed(address: str) -> bool:
    return Suppression.objects.filter(email=normalise_email(address)).exists()


def suppress(address: str, reason: str, *, source: str, note: str = "") -> tuple[Suppression, bool]:
    """Add an address to the suppression list (idempotent). An unsubscribe or spam report upgrades an existing
    manual/bounce entry, so that it can no longer be removed."""
    address = normalise_email(address)
    entry, created = Suppression.objects.get_or_create(
        email=address, defaults={"reason": reason, "source": source[:100], "note": note}
    )
    if not created and reason in LOCKED_REASONS and entry.reason not in LOCKED_REASONS:
        Suppression.objects.filter(pk=entry.pk).exclude(reason__in=LOCKED_REASONS).update(
            reason=reason, source=source[:100]
        )
        entry.refresh_from_db()
    return entry, created


def add_manual_suppression(email: str, note: str = "") -> tuple[Suppression, bool]:
    """Operator entry (api.md §5.6): an address already listed keeps its entry (and reason)."""
    return suppress(email, Suppression.Reason.MANUAL, source="operator", note=note)


def remove_suppression(entry: Suppression) -> None:
    """Manual and bounce entries may be removed; unsubscribes and spam reports are the recipient's decision."""
    if entry.reason in LOCKED_REASONS:
        raise APIError(
            "Unsubscribe and spam-report suppressions cannot be removed.",
            "suppression_locked",
            status.HTTP_409_CONFLICT,
        )
    entry.delete()


def unsubscribe(token: str) -> str | None:
    """Suppress the address a valid one-click token names (reason ``unsubscribe``); returns it, None if invalid."""
    address = read_token(token)
    if address is None:
        return None
    suppress(address, Suppression.Reason.UNSUBSCRIBE, source="unsubscribe link")
    return address


# --- availability e-mail ------------------------------------------------------------------------------------


def queue_availability_email(candidate: Candidate) -> bool:
    """Queue the candidate's one availability e-mail; call it after the first enhanced PDF is stored.

    Inserts the (candidate, availability) record now and enqueues ``outreach.send_availability_email`` when the
    surrounding transaction commits. Returns False (and does nothing) when the e-mail is disabled, the candidate
    has no address, or the e-mail was queued before — so re-renders, rewrites and retries never send it again.
    """
    if not settings.AVAILABILITY_EMAIL_ENABLED or not (candidate.email or "").strip():
        return False
    try:
        with transaction.atomic():
            CandidateEmail.objects.create(candidate=candidate, kind=CandidateEmail.Kind.AVAILABILITY)
    except IntegrityError:
        return False
    transaction.on_commit(partial(_enqueue_availability, str(candidate.pk)))
    return True


def _enqueue_availability(candidate_id: str) -> None:
    from .tasks import send_availability_email

    try:
        send_availability_email.delay(candidate_id)
    except (KombuError, OSError) as exc:  # broker down: the record stays pending (re-send it from the admin)
        logger.warning("Availability e-mail could not be queued (%s).", type(exc).__name__)
        CandidateEmail.objects.filter(
            candidate_id=candidate_id,
            kind=CandidateEmail.Kind.AVAILABILITY,
            status=CandidateEmail.Status.PENDING,
        ).update(error="Could not be queued (task queue unavailable).")


def requeue_pending_availability_email(candidate_id) -> bool:
    """Send the task of a still-pending availability e-mail again (the first died with its worker before it was
    published). The send claims the record first, so a duplicate task never sends twice."""
    pending = CandidateEmail.objects.filter(
        candidate_id=candidate_id, kind=CandidateEmail.Kind.AVAILABILITY, status=CandidateEmail.Status.PENDING
    )
    if pending.exists():
        _enqueue_availability(str(candidate_id))
        return True
    return False


def requeue_availability_email(record: CandidateEmail) -> bool:
    """Operator action (admin): send a failed availability e-mail once more."""
    updated = CandidateEmail.objects.filter(pk=record.pk, status=CandidateEmail.Status.FAILED).update(
        status=CandidateEmail.Status.PENDING, error=""
    )
    if updated:
        transaction.on_commit(partial(_enqueue_availability, str(record.candidate_id)))
    return bool(updated)


def _close_record(record_id, status_value: str, **fields) -> None:
    CandidateEmail.objects.filter(pk=record_id).update(status=status_value, **fields)


def send_availability_email(candidate_id, *, final_attempt: bool = True) -> Outcome:
    """Send the candidate's availability e-mail if its record is pending (the task's body)."""
    now = timezone.now()
    records = CandidateEmail.objects.filter(candidate_id=candidate_id, kind=CandidateEmail.Kind.AVAILABILITY)
    # A worker that died mid-send leaves "sending" behind: its outcome is unknown, so it is not sent again.
    records.filter(
        status=CandidateEmail.Status.SENDING, updated_at__lt=now - timedelta(seconds=AVAILABILITY_TIME_LIMIT)
    ).update(status=CandidateEmail.Status.FAILED, error=INTERRUPTED)
    if not records.filter(status=CandidateEmail.Status.PENDING).update(
        status=CandidateEmail.Status.SENDING, attempts=F("attempts") + 1, updated_at=now
    ):
        sending = records.filter(status=CandidateEmail.Status.SENDING)
        claimed_at = sending.values_list("updated_at", flat=True).first()
        if claimed_at is not None and not final_attempt:
            # Being sent by another worker — or by one that died (a re-delivery can come sooner than the time
            # limit): look again once the limit has passed, when a dead sender's record is closed above.
            wait = AVAILABILITY_TIME_LIMIT - (now - claimed_at).total_seconds() + 1
            return Outcome(retry=True, retry_after=max(wait, 1.0), reason="Being sent by another worker.")
        return Outcome()  # already sent, failed or skipped
    record = records.select_related("candidate").get()
    candidate = record.candidate
    address = normalise_email(candidate.email or "")
    if not settings.AVAILABILITY_EMAIL_ENABLED:
        _close_record(record.pk, CandidateEmail.Status.FAILED, error="Availability e-mails are disabled.")
        return Outcome()
    if not address:
        _close_record(record.pk, CandidateEmail.Status.FAILED, error="The candidate has no e-mail address.")
        return Outcome()
    if is_suppressed(address):
        _close_record(record.pk, CandidateEmail.Status.SKIPPED_SUPPRESSED, error="")
        return Outcome()
    try:
        connection = transport.get_connection()
        message = messages.availability_message(candidate, connection)
        connection.send_messages([message])
    except Exception as exc:
        failure = transport.classify(exc)
        if failure.transient and not final_attempt:
            _close_record(record.pk, CandidateEmail.Status.PENDING, error=failure.reason)
            return Outcome(retry=True, retry_after=failure.retry_after, reason=failure.reason)
        reason = failure.reason + (f" Gave up after {record.attempts} attempts." if failure.transient else "")
        _close_record(record.pk, CandidateEmail.Status.FAILED, error=reason)
        logger.warning("Availability e-mail for candidate %s failed: %s", candidate.pk, type(exc).__name__)
        return Outcome()
    refused = transport.recipient_refused(message, address)
    if refused:
        _close_record(record.pk, CandidateEmail.Status.FAILED, error=refused)
        return Outcome()
    sent_at = timezone.now()
    _close_record(
        record.pk,
        CandidateEmail.Status.SENT,
        error="",
        sent_at=sent_at,
        provider_message_id=transport.provider_message_id(message, address),
    )
    Candidate.objects.filter(pk=candidate.pk).update(availability_email_sent_at=sent_at)
    return Outcome()


# --- send-to-contacts request (api.md §5.1) -------------------------------------------------------------------


def candidate_facts(candidate: Candidate):
    """What identifies the candidate, for the PII guard (core.extraction.sanitise, pipeline.md §7.4)."""
    from core.extraction.sanitise import CandidateFacts

    full = messages.single_line(candidate.name)
    given = messages.single_line(candidate.name_without_surname) or (full.split(" ")[0] if full else "")
    given_tokens = {t.casefold() for t in given.split()}
    rest = [t for t in full.split() if t.casefold() not in given_tokens]
    content = candidate.ai_enhanced_cv_content if isinstance(candidate.ai_enhanced_cv_content, dict) else {}
    data = content.get("data_extracted") if isinstance(content.get("data_extracted"), dict) else content
    protected = [
        job.get("company") for job in data.get("employment_history") or [] if isinstance(job, dict)
    ] + [q for q in data.get("qualifications") or [] if isinstance(q, str)]
    return CandidateFacts(
        given_name=given or None,
        full_name=full or None,
        surname=" ".join(rest) or None,
        email=candidate.email or None,
        phone=candidate.whatsapp_number or None,
        postcode=candidate.postcode or None,
        town=candidate.location or None,
        protected_names=tuple(name for name in protected if isinstance(name, str) and name.strip()),
    )


def ensure_cv_ready(candidate: Candidate) -> None:
    if not candidate.enhanced_cv:
        raise APIError("Candidate has no enhanced CV yet.", "cv_not_ready", status.HTTP_409_CONFLICT)


def parse_contact_ids(raw) -> list[uuid.UUID]:
    """contact_ids → unique UUIDs in request order (api.md §5.1 messages; bad elements keyed by index)."""
    from rest_framework.exceptions import ValidationError

    if raw is None or raw == "" or raw == []:
        raise APIError("contact_ids is required and cannot be empty.", "contact_ids_required")
    if not isinstance(raw, list | tuple):
        raise APIError("contact_ids must be a list of UUIDs.", "contact_ids_invalid")
    ids, errors = [], {}
    for index, value in enumerate(raw):
        try:
            if not isinstance(value, str):
                raise ValueError
            ids.append(uuid.UUID(value.strip()))
        except (ValueError, AttributeError):
            errors[str(index)] = ["Must be a valid UUID."]
    if errors:
        raise ValidationError({"contact_ids": errors})
    unique = list(dict.fromkeys(ids))
    if len(unique) > settings.OUTREACH_MAX_CONTACTS:
        raise APIError(f"Maximum {settings.OUTREACH_MAX_CONTACTS} contacts per request.", "too_many_contacts")
    return unique


def raw_contact_ids(data):
    if hasattr(data, "getlist"):  # form or multipart body: contact_ids=…&contact_ids=…
        values = data.getlist("contact_ids")
        return values if len(values) != 1 or values[0] != "" else None
    return data.get("contact_ids") if isinstance(data, Mapping) else None


def _already_sent(candidate_id, contact_ids, emails, *, exclude_job=None) -> tuple[set, set]:
    """(contact ids, addresses) this candidate was already sent to (or is being sent to right now)."""
    rows = OutreachMessage.objects.filter(
        candidate_id=candidate_id, status__in=[Status.SENT, Status.SENDING]
    ).filter(Q(contact_id__in=contact_ids) | Q(contact_email__in=emails))
    if exclude_job is not None:
        rows = rows.exclude(job=exclude_job)
    pairs = list(rows.values_list("contact_id", "contact_email"))
    return {c for c, _ in pairs if c}, {e for _, e in pairs}


def start_outreach(
    candidate: Candidate, *, contact_ids_raw, user, subject: str = "", body: str = "", force: bool = False
) -> dict:
    """Validate (checks after 404/409/field errors, in contract order), record the job, enqueue it on commit."""
    from core.extraction.sanitise import pii_terms

    subject = messages.clean_subject(subject or candidate.email_subject)
    body = (body or candidate.email_body or "").strip()
    if not subject or not body:
        raise APIError(
            "Candidate has no email subject or body. Process the CV through AI first.", "no_email_content"
        )
    ids = parse_contact_ids(contact_ids_raw)
    terms = pii_terms(f"{subject}\n{body}", candidate_facts(candidate))
    if terms:
        raise APIError(
            "The subject or body contains the candidate's personal details. Remove them and try again.",
            "pii_in_outreach",
            status.HTTP_422_UNPROCESSABLE_ENTITY,
            terms=terms,
        )
    if not transport.sending_available():
        raise APIError(
            "Email sending is not configured.", "email_unavailable", status.HTTP_503_SERVICE_UNAVAILABLE
        )

    contacts = {c.pk: c for c in Contact.objects.select_related("organization").filter(pk__in=ids)}
    found = [contacts[i] for i in ids if i in contacts]
    not_found = [str(i) for i in ids if i not in contacts]
    emails = [normalise_email(c.work_email) for c in found]
    suppressed = set(Suppression.objects.filter(email__in=emails).values_list("email", flat=True))
    sent_ids, sent_emails = (set(), set()) if force else _already_sent(candidate.pk, list(contacts), emails)
    skipped_suppressed = skipped_sent = 0
    for contact, address in zip(found, emails, strict=True):
        if address in suppressed:
            skipped_suppressed += 1
        elif contact.pk in sent_ids or address in sent_emails:
            skipped_sent += 1
    creator = user if getattr(user, "is_authenticated", False) else None
    with transaction.atomic():
        job = OutreachJob.objects.create(
            candidate=candidate,
            created_by=creator,
            subject=subject,
            body=body,
            force=force,
            requested_count=len(ids),
            not_found_ids=not_found,
        )
        OutreachMessage.objects.bulk_create(
            [
                OutreachMessage(
                    job=job,
                    candidate=candidate,
                    contact=contact,
                    contact_email=address,
                    contact_person=contact.contact_person,
                    organization_id=contact.organization_id,
                    organization_name=contact.organization.name,
                    subject=subject,
                    created_by=creator,
                )
                for contact, address in zip(found, emails, strict=True)
            ]
        )
        transaction.on_commit(partial(_enqueue_outreach, str(job.pk)))
    return {
        "message": f"Sending emails to {len(ids)} contacts.",
        "task_id": str(job.pk),
        "candidate": candidate.name or messages.given_name(candidate),
        "contact_count": len(ids),
        "poll_url": f"/api/candidates/send-status/{job.pk}/",
        "to_send": len(found) - skipped_suppressed - skipped_sent,
        "skipped_already_sent": skipped_sent,
        "skipped_suppressed": skipped_suppressed,
        "not_found": len(not_found),
    }


def _enqueue_outreach(job_id: str) -> None:
    from .tasks import send_outreach

    try:
        send_outreach.delay(job_id)
    except (
        KombuError,
        OSError,
    ) as exc:  # broker down after the commit: say so on the job instead of leaving it pending
        logger.warning("Outreach job %s could not be queued (%s).", job_id, type(exc).__name__)
        reason = "The task queue is unavailable; nothing was sent."
        OutreachMessage.objects.filter(job_id=job_id, status=Status.QUEUED).update(
            status=Status.FAILED, error=reason
        )
        OutreachJob.objects.filter(pk=job_id, status=OutreachJob.Status.PENDING).update(
            status=OutreachJob.Status.FAILED, error=reason, finished_at=timezone.now()
        )


# --- the send-outreach job ------------------------------------------------------------------------------------


class _MissingFile(Exception):
    pass


def _read_file(name: str) -> bytes:
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except FileNotFoundError as exc:
        raise _MissingFile from exc
    except OSError as exc:
        if isinstance(exc, transient_errors()):
            raise
        raise _MissingFile from exc
    except Exception as exc:  # S3: NoSuchKey / 404 arrive as botocore ClientError
        if isinstance(exc, transient_errors()):
            raise
        code = str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
        if code in ("NoSuchKey", "404", "NotFound"):
            raise _MissingFile from exc
        raise


def outreach_content(job: OutreachJob) -> messages.OutreachContent:
    """Subject, body and attachments shared by every message of the job: the enhanced CV, never the original."""
    candidate = job.candidate
    if not candidate.enhanced_cv:
        raise _MissingFile
    attachments = [
        messages.Attachment(
            messages.cv_attachment_name(candidate), _read_file(candidate.enhanced_cv), "application/pdf"
        )
    ]
    if settings.OUTREACH_ATTACH_PHOTO and candidate.profile_photo:
        try:
            photo = _read_file(candidate.profile_photo)
        except _MissingFile:
            photo = None
        if photo:
            attachments.append(
                messages.Attachment(messages.photo_attachment_name(candidate), photo, "image/jpeg")
            )
    return messages.OutreachContent(str(candidate.pk), job.subject, job.body, attachments)


SNAPSHOT_FIELDS = ("contact_email", "contact_person", "organization_id", "organization_name")


def _set_status(rows: list[OutreachMessage], status_value: str, error: str = "", **fields) -> None:
    """One UPDATE for rows that get the same values (1000 rows per statement, not 1000 statements)."""
    for row in rows:
        row.status, row.error = status_value, error
    if rows:
        OutreachMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=status_value, error=error, **fields
        )


def _refresh_snapshot(rows: list[OutreachMessage]) -> None:
    """The record keeps what was sent to whom: take the contact's current address, name and school."""
    changed = []
    for row in rows:
        contact = row.contact
        if contact is None:
            continue
        current = (
            normalise_email(contact.work_email),
            contact.contact_person,
            contact.organization_id,
            contact.organization.name,
        )
        if current != tuple(getattr(row, name) for name in SNAPSHOT_FIELDS):
            for name, value in zip(SNAPSHOT_FIELDS, current, strict=True):
                setattr(row, name, value)
            changed.append(row)
    if changed:
        OutreachMessage.objects.bulk_update(changed, SNAPSHOT_FIELDS)


def _claim(job: OutreachJob, limit: int, tried: set) -> list[OutreachMessage] | None:
    """Move up to ``limit`` queued rows not yet ``tried`` in this pass to ``sending`` (re-checking suppression and
    earlier sends); None when none is left. Claims for one candidate are serialised (row lock), so two concurrent
    jobs can never both send this candidate to the same contact."""
    with transaction.atomic():
        list(Candidate.objects.select_for_update().filter(pk=job.candidate_id).values_list("pk", flat=True))
        rows = list(
            job.messages.filter(status=Status.QUEUED)
            .exclude(pk__in=tried)
            .select_related("contact__organization")
            .order_by("created_at", "id")[:limit]
        )
        if not rows:
            return None
        _refresh_snapshot(rows)
        emails = [row.contact_email for row in rows]
        suppressed = set(Suppression.objects.filter(email__in=emails).values_list("email", flat=True))
        sent_ids, sent_emails = (
            (set(), set())
            if job.force
            else _already_sent(
                job.candidate_id, [r.contact_id for r in rows if r.contact_id], emails, exclude_job=job
            )
        )
        deleted, skipped_suppressed, skipped_sent, claimed = [], [], [], []
        for row in rows:
            if row.contact_id is None:
                deleted.append(row)
            elif row.contact_email in suppressed:
                skipped_suppressed.append(row)
            elif row.contact_id in sent_ids or row.contact_email in sent_emails:
                skipped_sent.append(row)
            else:
                row.attempts += 1
                claimed.append(row)
        _set_status(deleted, Status.FAILED, "The contact was deleted before sending.")
        _set_status(skipped_suppressed, Status.SKIPPED_SUPPRESSED)
        _set_status(skipped_sent, Status.SKIPPED_ALREADY_SENT)
        _set_status(claimed, Status.SENDING, attempts=F("attempts") + 1)
    tried.update(row.pk for row in rows)
    return claimed


def _set_aside(rows: list[OutreachMessage], reason: str) -> None:
    _set_status(rows, Status.QUEUED, reason)


def _fail(rows: list[OutreachMessage], reason: str) -> None:
    _set_status(rows, Status.FAILED, reason)


def _mark_sent(rows: list[OutreachMessage], message) -> None:
    now = timezone.now()
    sent = []
    for row in rows:
        refused = transport.recipient_refused(message, row.contact_email)
        if refused:
            _fail([row], refused)
        else:
            row.sent_at = now
            row.provider_message_id = transport.provider_message_id(message, row.contact_email)
            sent.append(row)
    with transaction.atomic():
        _set_status(sent, Status.SENT, sent_at=now)
        if sent:
            OutreachMessage.objects.bulk_update(sent, ["provider_message_id"])


def _recipient(row: OutreachMessage) -> messages.Recipient:
    contact = row.contact
    return messages.Recipient(
        outreach_id=str(row.pk),
        email=row.contact_email,
        greeting=messages.greeting(contact.contact_person, contact.job_title, contact.is_role_mailbox),
    )


def _deliver_batches(job, content, connection, limiter) -> transport.Failure | None:
    """ESP batch API: one call per ≤ OUTREACH_BATCH_SIZE recipients."""
    tried: set = set()
    with connection:
        while (rows := _claim(job, settings.OUTREACH_BATCH_SIZE, tried)) is not None:
            if not rows:
                continue
            limiter.wait()
            try:
                message = messages.outreach_batch_message(content, [_recipient(r) for r in rows], connection)
                connection.send_messages([message])
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:
                failure = transport.classify(exc)
                if failure.transient:
                    _set_aside(rows, failure.reason)
                    return failure
                _fail(rows, failure.reason)
                continue
            _mark_sent(rows, message)
    return None


def _close_quietly(connection) -> None:
    try:
        connection.close()
    except Exception as exc:  # the server may already be gone; nothing to do about it
        logger.debug("Closing the mail connection failed: %s", type(exc).__name__)


def _deliver_one_by_one(job, content, connection, limiter) -> transport.Failure | None:
    """SMTP/outbox/other ESPs: one message per contact over a connection reused for ≤ 100 messages."""
    failure, is_open, on_connection, tried = None, False, 0, set()
    try:
        while (rows := _claim(job, 1, tried)) is not None:
            if not rows:
                continue
            row = rows[0]
            limiter.wait()
            try:
                if not is_open:
                    connection.open()
                    is_open, on_connection = True, 0
                message = messages.outreach_message(content, _recipient(row), connection)
                connection.send_messages([message])
            except SoftTimeLimitExceeded:
                raise
            except Exception as exc:
                found = transport.classify(exc)
                if not found.transient:
                    _fail(rows, found.reason)
                    continue
                _set_aside(rows, found.reason)
                failure = found
                if found.provider_wide:
                    return failure
                continue
            _mark_sent(rows, message)
            on_connection += 1
            if on_connection >= settings.OUTREACH_MESSAGES_PER_CONNECTION:
                _close_quietly(connection)
                is_open = False
    finally:
        _close_quietly(connection)
    return failure


def _claim_job(job_id) -> bool:
    now = timezone.now()
    return bool(
        OutreachJob.objects.filter(
            pk=job_id, status__in=[OutreachJob.Status.PENDING, OutreachJob.Status.PROCESSING]
        )
        .filter(Q(lease_until__isnull=True) | Q(lease_until__lt=now))
        .update(
            status=OutreachJob.Status.PROCESSING,
            lease_until=now + timedelta(seconds=OUTREACH_TIME_LIMIT + 60),
            started_at=Coalesce(F("started_at"), Value(now)),
        )
    )


def _release(job: OutreachJob) -> None:
    OutreachJob.objects.filter(pk=job.pk).update(lease_until=None)


def _end_job(job: OutreachJob, *, error: str = "") -> None:
    """Close the job (remaining queued rows fail with ``error``), recompute the candidate's figures, log it."""
    if error:
        job.messages.filter(status__in=[Status.QUEUED, Status.SENDING]).update(
            status=Status.FAILED, error=error
        )
    OutreachJob.objects.filter(pk=job.pk).update(
        status=OutreachJob.Status.FAILED if error else OutreachJob.Status.COMPLETED,
        error=error,
        finished_at=timezone.now(),
        lease_until=None,
    )
    recompute_candidate_stats(job.candidate_id)
    counts = dict(
        job.messages.order_by().values_list("status").annotate(n=Count("id")).values_list("status", "n")
    )
    sent, failed = counts.get(Status.SENT, 0), counts.get(Status.FAILED, 0)
    severity = "error" if error else ("warning" if failed else "success")
    record_activity(
        "emails_sent",
        title=f"Outreach for {messages.given_name(job.candidate)}: {sent} e-mail{'s' if sent != 1 else ''} sent",
        message=(
            f"{sent} sent, {failed} failed, {counts.get(Status.SKIPPED_ALREADY_SENT, 0)} skipped (already sent), "
            f"{counts.get(Status.SKIPPED_SUPPRESSED, 0)} suppressed, {len(job.not_found_ids)} not found."
            + (f" {error}" if error else "")
        ),
        severity=severity,
        actor=job.created_by,
        candidate_id=job.candidate_id,
    )


def run_outreach_job(job_id, *, final_attempt: bool = True) -> Outcome:
    """One pass over the job's queued contacts (the body of ``outreach.send_outreach``)."""
    if not _claim_job(job_id):
        return Outcome()  # finished, unknown, or another worker holds it
    job = OutreachJob.objects.select_related("candidate", "created_by").filter(pk=job_id).first()
    if job is None:
        return Outcome()  # deleted with its candidate meanwhile
    try:
        job.messages.filter(status=Status.SENDING).update(status=Status.FAILED, error=INTERRUPTED)
        try:
            content = outreach_content(job)
        except _MissingFile:
            _end_job(job, error="The candidate's enhanced CV file is missing; nothing was sent.")
            return Outcome()
        connection = transport.get_connection()
        limiter = transport.RateLimiter()
        deliver = _deliver_batches if transport.supports_batch(connection) else _deliver_one_by_one
        failure = deliver(job, content, connection, limiter)
    except (SoftTimeLimitExceeded, *transient_errors()) as exc:
        # Storage or database briefly unavailable, or the pass ran out of time: the next pass continues. A row
        # caught mid-call stays "sending" and is recorded as interrupted then (never sent twice).
        reason = f"Temporarily unavailable ({type(exc).__name__})."
        if not final_attempt:
            _release(job)
            return Outcome(retry=True, retry_after=getattr(exc, "retry_after", None), reason=reason)
        _end_job(job, error=f"{reason} Not sent after {MESSAGE_RETRIES} retries.")
        return Outcome()
    except Exception as exc:
        _end_job(job, error=f"Unexpected error ({type(exc).__name__}); remaining contacts were not sent.")
        raise
    if failure is not None and job.messages.filter(status=Status.QUEUED).exists():
        if not final_attempt:
            _release(job)
            return Outcome(retry=True, retry_after=failure.retry_after, reason=failure.reason)
        reason = f"{failure.reason} Not sent after {MESSAGE_RETRIES} retries."
        if failure.provider_wide:
            _end_job(job, error=reason)
            return Outcome()
        job.messages.filter(status=Status.QUEUED).update(status=Status.FAILED, error=reason)
    _end_job(job)
    return Outcome()


def recompute_candidate_stats(candidate_id) -> None:
    """contacts_emailed_count and last_contacted_at follow from the records (never incremented blindly)."""
    stats = OutreachMessage.objects.filter(candidate_id=candidate_id, status=Status.SENT).aggregate(
        contacts=Count("contact_email", distinct=True), last=Max("sent_at")
    )
    Candidate.objects.filter(pk=candidate_id).update(
        contacts_emailed_count=stats["contacts"] or 0, last_contacted_at=stats["last"]
    )
