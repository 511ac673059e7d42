"""Outreach reads: look-ups with the contract's 404s, send status and summaries, history and suppression lists."""

import uuid

from django.db.models import Count, QuerySet
from rest_framework.exceptions import NotFound

from candidates.models import Candidate

from .models import OutreachJob, OutreachMessage, Suppression

Status = OutreachMessage.Status
RESULT_FIELDS = ("contact_id", "contact_email", "organization_name", "status", "provider_message_id", "error")


def _uuid_or_404(value, message: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise NotFound(message)


def get_candidate(candidate_id) -> Candidate:
    pk = _uuid_or_404(candidate_id, "Candidate not found.")
    candidate = Candidate.objects.filter(pk=pk).first()
    if candidate is None:
        raise NotFound("Candidate not found.")
    return candidate


def get_job(task_id) -> OutreachJob:
    pk = _uuid_or_404(task_id, "Task not found.")
    job = OutreachJob.objects.filter(pk=pk).first()
    if job is None:
        raise NotFound("Task not found.")
    return job


def get_suppression(suppression_id) -> Suppression:
    pk = _uuid_or_404(suppression_id, "Suppression not found.")
    entry = Suppression.objects.filter(pk=pk).first()
    if entry is None:
        raise NotFound("Suppression not found.")
    return entry


def _counts(job: OutreachJob) -> dict[str, int]:
    rows = job.messages.order_by().values_list("status").annotate(n=Count("id"))
    return dict(rows.values_list("status", "n"))


def summary(job: OutreachJob, results: list[dict]) -> dict:
    """``total = sent + failed + skipped + suppressed + not_found`` once the job has finished."""
    counts = _counts(job)
    return {
        "total": job.requested_count,
        "sent": counts.get(Status.SENT, 0),
        "failed": counts.get(Status.FAILED, 0),
        "skipped": counts.get(Status.SKIPPED_ALREADY_SENT, 0),
        "suppressed": counts.get(Status.SKIPPED_SUPPRESSED, 0),
        "not_found": len(job.not_found_ids),
        "errors": [f"{r['email']}: {r['error']}" for r in results if r["status"] == Status.FAILED],
    }


def results(job: OutreachJob) -> list[dict]:
    rows = job.messages.order_by("created_at", "id").values(*RESULT_FIELDS, "delivery_status")
    found = [
        {
            "contact_id": str(row["contact_id"]) if row["contact_id"] else None,
            "email": row["contact_email"],
            "organization_name": row["organization_name"],
            "status": row["status"],
            "message_id": row["provider_message_id"] or None,
            "error": row["error"] or None,
            "delivery_status": row["delivery_status"],
        }
        for row in rows
    ]
    missing = [
        {
            "contact_id": contact_id,
            "email": None,
            "organization_name": None,
            "status": "not_found",
            "message_id": None,
            "error": "Contact not found.",
            "delivery_status": None,
        }
        for contact_id in job.not_found_ids
    ]
    return found + missing


def send_status(job: OutreachJob) -> dict:
    """api.md §5.2 body for the job's current state."""
    if job.status == OutreachJob.Status.PENDING:
        return {"status": "pending", "message": "Emails are still being sent."}
    if job.status == OutreachJob.Status.PROCESSING:
        counts = _counts(job)
        unfinished = counts.get(Status.QUEUED, 0) + counts.get(Status.SENDING, 0)
        return {
            "status": "processing",
            "message": "Processing.",
            "progress": {"done": job.requested_count - unfinished, "total": job.requested_count},
        }
    listed = results(job)
    body = {"status": job.status, "summary": summary(job, listed), "results": listed}
    if job.status == OutreachJob.Status.FAILED:
        body = {"status": "failed", "error": job.error, **{k: body[k] for k in ("summary", "results")}}
    return body


def outreach_history(candidate: Candidate) -> QuerySet[OutreachMessage]:
    return OutreachMessage.objects.filter(candidate=candidate).order_by("-created_at", "-id")


def suppressions(search: str | None = None, reason: str | None = None) -> QuerySet[Suppression]:
    rows = Suppression.objects.order_by("-created_at", "-id")
    if search:
        rows = rows.filter(email__icontains=search.strip().lower())
    if reason:
        rows = rows.filter(reason=reason)
    return rows
