"""CV rewrite (pipeline.md §10): a worker rewrites the client-facing content; done only once the new PDF exists."""

import uuid

from django.conf import settings
from django.db import transaction

from core.extraction.sanitise import CandidateFacts
from core.extraction.schema import validate_cv_data

from .models import Candidate, RewriteStatus
from .search import build_search_text


class RewriteInvalid(Exception):
    """The rewritten content broke an invariant or the schema; permanent."""


def start_rewrite(candidate: Candidate, instruction: str | None, user=None) -> uuid.UUID:
    """Mark the (row-locked) candidate as rewriting and enqueue the worker task after commit."""
    task_id = uuid.uuid4()
    Candidate.objects.filter(id=candidate.id).update(
        rewrite_status=RewriteStatus.PROCESSING,
        rewrite_task_id=task_id,
        rewrite_instruction=(instruction or "").strip(),
        rewrite_failure_reason="",
    )
    from .tasks import rewrite_cv

    transaction.on_commit(lambda: rewrite_cv.delay(str(candidate.id), str(task_id)))
    return task_id


def _facts(candidate: Candidate) -> CandidateFacts:
    surname = candidate.name.split()[-1] if candidate.name and len(candidate.name.split()) > 1 else None
    return CandidateFacts(
        given_name=candidate.name_without_surname or None,
        full_name=candidate.name or None,
        surname=surname,
        email=candidate.email,
        phone=candidate.whatsapp_number,
        postcode=candidate.postcode,
        town=candidate.location,
    )


def rewrite(candidate_id, task_id) -> None:
    """Rewrite, check invariants, save, then queue the re-render that completes the rewrite."""
    from .pipeline import queue_regeneration

    candidate = Candidate.objects.filter(
        id=candidate_id, rewrite_task_id=task_id, rewrite_status=RewriteStatus.PROCESSING
    ).first()
    if candidate is None:
        return  # superseded or deleted
    content = dict(candidate.ai_enhanced_cv_content or {})
    current, _ = validate_cv_data(content.get("data_extracted") or {})
    try:
        rewritten, warnings = _rewrite(current, candidate.rewrite_instruction, _facts(candidate))
        _check_invariants(current, rewritten)
    except RewriteInvalid as exc:
        fail_rewrite(candidate_id, task_id, str(exc))
        return
    data = rewritten.model_dump()
    content["data_extracted"] = data
    content["warnings"] = list(dict.fromkeys([*(content.get("warnings") or []), *warnings]))
    fields = {"ai_enhanced_cv_content": content}
    edited = set(candidate.edited_fields or [])
    if data["role"] and "job_titles" not in edited:
        fields["job_titles"] = candidate.job_titles = data["role"]
        fields["search_text"] = build_search_text(candidate)
    for column, key in (("email_subject", "email_subject"), ("email_body", "email_body")):
        if column not in edited:
            fields[column] = data[key]
    with transaction.atomic():
        if not Candidate.objects.filter(id=candidate_id, rewrite_task_id=task_id).update(**fields):
            return
        candidate.refresh_from_db()
        if not queue_regeneration(candidate, rewrite_task_id=task_id):
            complete_rewrite(candidate_id, task_id)  # the rendered content is unchanged: nothing to wait for


def _rewrite(current, instruction: str, facts: CandidateFacts):
    if settings.AI_PROVIDER == "llm":
        from .providers import rewrite_with_llm

        return rewrite_with_llm(current, instruction, facts)
    if settings.AI_PROVIDER == "remote":
        from .remote import rewrite_with_remote

        return rewrite_with_remote(current, instruction, facts)
    from core.extraction.writer import rewrite_offline

    return rewrite_offline(current, instruction or None, facts=facts)


def _check_invariants(before, after) -> None:
    """Dates, employers and titles are facts: a rewrite may reword duties, never change those."""
    if len(before.employment_history) != len(after.employment_history) or any(
        (a.date_range, a.company, a.role) != (b.date_range, b.company, b.role)
        for a, b in zip(before.employment_history, after.employment_history, strict=True)
    ):
        raise RewriteInvalid("rewrite changed immutable fields")


def complete_rewrite(candidate_id, task_id) -> None:
    if Candidate.objects.filter(id=candidate_id, rewrite_task_id=task_id).update(
        rewrite_status=RewriteStatus.COMPLETED
    ):
        _activity("cv_rewrite_completed", "success", "CV rewrite completed", candidate_id)


def fail_rewrite(candidate_id, task_id, reason: str) -> None:
    if Candidate.objects.filter(id=candidate_id, rewrite_task_id=task_id).update(
        rewrite_status=RewriteStatus.FAILED, rewrite_failure_reason=reason[:2000]
    ):
        _activity("cv_rewrite_failed", "error", f"CV rewrite failed: {reason[:200]}", candidate_id)


def _activity(event_type: str, severity: str, title: str, candidate_id) -> None:
    from accounts.activity import record_activity

    batch_id = Candidate.objects.filter(id=candidate_id).values_list("batch_id", flat=True).first()
    record_activity(event_type, title=title, severity=severity, candidate_id=candidate_id, batch_id=batch_id)
