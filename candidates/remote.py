"""Remote analysis (``AI_PROVIDER=remote``): the AI service analyses the file; the backend submits and polls.

    analyse_cv ── submit() ──► submit_remote ── POST {AI_BASE_URL}/api/v1/regeneration (multipart, bearer)
                                     │  remote task id stored on the candidate (``ai_task_id``) before polling
                                     ▼
                               poll_remote ── GET /api/v1/tasks/{id} every AI_POLL_INTERVAL_SECONDS (≤ 60 s)
                                     │  pending: re-schedules itself; past AI_POLL_MAX_WAIT_SECONDS → ai_timeout
                                     ▼  failed: the service's code; completed: validate, photo, complete_analysis

Only the stored original file and the batch hints are sent (never the client's file name). Every step is
guarded by (candidate, run_id, stage ``analysing``, ``ai_task_id``), so a re-delivered, superseded or stale
message exits quietly. The result is not trusted (reference-defects S11, V4): its shape is validated, the CV
content re-validated with the shared schema (limits by truncation), grounded against the text extracted here,
experience recomputed, client-facing text sanitised and quality reassessed — the same code as the LLM
provider. The photo is fetched only from the ``AI_BASE_URL`` host, with the token, ≤ 5 MB, JPEG/PNG/WebP by
content, re-encoded; any photo problem is a warning, never a failure.

:func:`rewrite_with_remote` is the remote counterpart of ``providers.rewrite_with_llm`` (pipeline.md §10): it
posts to ``/api/v1/rewrite`` and polls from the rewrite task itself.
"""

import json
import logging
import re
import time
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from core.extraction.filetypes import FileType
from core.extraction.llm import finalise_analysis
from core.extraction.sanitise import CandidateFacts
from core.extraction.schema import CVDataInput, validate_analysis, validate_cv_data
from core.extraction.writer import london_today, plain_text, sanitise_cv_data
from cvengine.celery import TransientError

from . import documents, photos, pipeline
from .models import Candidate, Stage

logger = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
MAX_PHOTO_BYTES = photos.MAX_BYTES  # 5 MB
FAILURE_CODES = {
    "invalid_ai_output", "ai_unavailable", "ai_timeout", "corrupt_file", "encrypted", "no_text_layer",
    "unsupported_type", "empty_file", "too_large",
}  # fmt: skip
_TASK_ID = re.compile(r"^[A-Za-z0-9-]{1,100}$")


class RemoteResultInvalid(ValueError):
    """The AI service's result does not have the stored-result shape."""


# --- submitting ------------------------------------------------------------------------------------------------


def submit(candidate: Candidate, hints: dict) -> None:
    """Start remote analysis of ``candidate`` (in stage ``analysing``): queue the upload to the AI service.

    The previous run's remote task id is cleared first, so the upload task can tell a re-delivered message of
    this run (id already stored: nothing to do) from a new submission.
    """
    from .remote_tasks import submit_remote

    cleared = Candidate.objects.filter(
        id=candidate.id, run_id=candidate.run_id, processing_stage=Stage.ANALYSING
    ).update(ai_task_id="")
    if cleared:
        args = (str(candidate.id), str(candidate.run_id))
        transaction.on_commit(lambda: submit_remote.delay(*args))


def send(candidate_id, run_id) -> None:
    """POST the stored original file to the AI service, store the remote task id, schedule the first poll."""
    candidate = (
        Candidate.objects.select_related("batch")
        .filter(id=candidate_id, run_id=run_id, processing_stage=Stage.ANALYSING)
        .first()
    )
    if candidate is None or candidate.ai_task_id:
        return  # stale, or this run's file was already submitted
    hints = (candidate.batch.additional_info if candidate.batch else None) or {}
    with default_storage.open(candidate.original_file, "rb") as stored:
        content = stored.read()
    try:
        media_type = FileType(candidate.file_type).media_type
    except ValueError:
        media_type = "application/octet-stream"
    try:
        with _client() as client:
            response = client.post(
                f"{settings.AI_BASE_URL}/api/v1/regeneration",
                files={"file": (f"cv.{candidate.file_type or 'bin'}", content, media_type)},
                data={"additional_info": json.dumps(hints, default=str)},
            )
    except httpx.TimeoutException as exc:
        raise TransientError(f"The AI service did not answer ({type(exc).__name__}).")
    _raise_if_transient(response)
    task_id = _accepted_task_id(response)
    if task_id is None:
        pipeline.fail(
            candidate_id,
            run_id,
            Stage.ANALYSING,
            pipeline.Failure(
                "ai_unavailable", f"The AI service refused the CV (HTTP {response.status_code})."
            ),
        )
        return
    deadline = time.time() + settings.AI_POLL_MAX_WAIT_SECONDS
    with transaction.atomic():
        stored_id = Candidate.objects.filter(
            id=candidate_id, run_id=run_id, processing_stage=Stage.ANALYSING, ai_task_id=""
        ).update(ai_task_id=task_id)
        if stored_id:
            transaction.on_commit(lambda: _schedule_poll(candidate_id, run_id, task_id, deadline))
    logger.info("Candidate %s submitted to the AI service as task %s", candidate_id, task_id)


def _accepted_task_id(response: httpx.Response) -> str | None:
    if response.status_code != 202:
        return None
    try:
        task_id = response.json().get("task_id")
    except (ValueError, AttributeError):
        return None
    return task_id if isinstance(task_id, str) and _TASK_ID.match(task_id) else None


def _schedule_poll(candidate_id, run_id, remote_task_id: str, deadline: float) -> None:
    from .remote_tasks import poll_remote

    countdown = min(settings.AI_POLL_INTERVAL_SECONDS, 60, max(1.0, deadline - time.time()))
    poll_remote.apply_async(
        args=(str(candidate_id), str(run_id), remote_task_id, deadline), countdown=countdown
    )


# --- polling ---------------------------------------------------------------------------------------------------


def _current(candidate_id, run_id, remote_task_id: str) -> Candidate | None:
    return (
        Candidate.objects.select_related("batch")
        .filter(id=candidate_id, run_id=run_id, processing_stage=Stage.ANALYSING, ai_task_id=remote_task_id)
        .first()
    )


def poll(candidate_id, run_id, remote_task_id: str, deadline: float) -> None:
    """One look at the remote task: finish, fail, or poll again later (stale polls exit quietly)."""
    if _current(candidate_id, run_id, remote_task_id) is None:
        return
    try:
        with _client() as client:
            response = client.get(f"{settings.AI_BASE_URL}/api/v1/tasks/{remote_task_id}")
    except httpx.TimeoutException as exc:
        raise TransientError(f"The AI service did not answer ({type(exc).__name__}).")
    _raise_if_transient(response)
    if response.status_code != 200:
        _fail(candidate_id, run_id, "ai_unavailable", f"The AI service answered HTTP {response.status_code}.")
        return
    try:
        body = response.json()
        state = body.get("status")
    except (ValueError, AttributeError):
        _fail(candidate_id, run_id, "invalid_ai_output", "The AI service's task status is not JSON.")
        return
    if state == "completed":
        _complete(candidate_id, run_id, remote_task_id, body.get("result"))
    elif state == "failed":
        code, reason = _failure(body.get("error"))
        _fail(candidate_id, run_id, code, reason)
    elif time.time() >= deadline:
        _fail(
            candidate_id,
            run_id,
            "ai_timeout",
            f"The AI service did not finish within {settings.AI_POLL_MAX_WAIT_SECONDS} s.",
        )
    else:
        _schedule_poll(candidate_id, run_id, remote_task_id, deadline)


def poll_failed(candidate_id, run_id, remote_task_id: str, exc: BaseException) -> None:
    """The poll task gave up (retries used up or an unexpected error): fail the analysis if still current."""
    if _current(candidate_id, run_id, remote_task_id) is not None:
        pipeline.fail_after_error(Stage.ANALYSING, candidate_id, run_id, exc)


def _failure(error: Any) -> tuple[str, str]:
    text = str(error or "The AI service could not analyse the CV.")[:1000]
    code, sep, message = text.partition(":")
    if sep and code.strip() in FAILURE_CODES:
        return code.strip(), message.strip() or text
    return "ai_unavailable", text


def _fail(candidate_id, run_id, code: str, reason: str) -> None:
    pipeline.fail(candidate_id, run_id, Stage.ANALYSING, pipeline.Failure(code, reason))


def _complete(candidate_id, run_id, remote_task_id: str, result: Any) -> None:
    candidate = _current(candidate_id, run_id, remote_task_id)
    if candidate is None:
        return
    hints = (candidate.batch.additional_info if candidate.batch else None) or {}
    try:
        stored, photo_url = validate_remote_result(result, candidate, hints)
    except RemoteResultInvalid as exc:
        _fail(candidate_id, run_id, "invalid_ai_output", f"The AI service returned an invalid result: {exc}")
        return
    if photo_url and not candidate.profile_photo:
        key, warning = _store_remote_photo(candidate, photo_url, remote_task_id)
        if warning:
            stored["warnings"] = [*stored["warnings"], warning]
        if key:
            if Candidate.objects.filter(
                id=candidate_id, run_id=run_id, processing_stage=Stage.ANALYSING, ai_task_id=remote_task_id
            ).update(profile_photo=key):
                candidate.profile_photo = key
            else:
                documents.delete_later([key])
                return
    if pipeline.complete_analysis(candidate, stored):
        logger.info("Candidate %s analysed by the AI service (task %s)", candidate_id, remote_task_id)


# --- validating the result -------------------------------------------------------------------------------------


class _PersonalInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    full_name: str | None = None
    email: str | None = None
    whatsapp: str | None = None
    skill: list[str] = Field(default_factory=list, max_length=200)
    location: str | None = None


class _RemoteResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    status: Literal["success"]
    quality_check: Literal["pass", "fail", "manual review"]
    extracted_photo_url: str | None = Field(default=None, max_length=2000)
    data_extracted: dict[str, Any]
    personal_info: _PersonalInfo
    schema_version: Literal[2]
    provider: str | None = Field(default=None, max_length=50)
    model: str | None = Field(default=None, max_length=200)
    warnings: list[str] = Field(default_factory=list, max_length=200)
    stated_years_experience: float | None = None
    postcode: str | None = None


def validate_remote_result(result: Any, candidate: Candidate, hints: dict) -> tuple[dict, str | None]:
    """The stored result (pipeline.md §6) rebuilt from a remote one, and its photo URL. RemoteResultInvalid."""
    try:
        remote = _RemoteResult.model_validate(result)
        info = remote.personal_info
        answer, warnings = validate_analysis(
            {
                **remote.data_extracted,
                "extracted_personal_info": {
                    "full_name": info.full_name,
                    "email": info.email,
                    "whatsapp": info.whatsapp,
                    "location": info.location,
                    "postcode": remote.postcode,
                    "skills": info.skill,
                    "total_years_experience": remote.stated_years_experience,
                    "experience_summary": "",
                },
            }
        )
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors(include_input=False)[:5]
        )
        raise RemoteResultInvalid(problems)
    remote_warnings = [w[:100] for w in remote.warnings if isinstance(w, str)][:50]
    provider = re.sub(r"[^a-z0-9_-]", "", (remote.provider or "unknown").lower())[:30] or "unknown"
    outcome = finalise_analysis(
        answer,
        candidate.extracted_text,
        hints=hints,
        has_photo=bool(candidate.profile_photo or remote.extracted_photo_url),
        ocr_used=candidate.text_from_ocr,
        today=london_today(),
        warnings=[*remote_warnings, *warnings],
        provider=f"remote:{provider}",
        model=remote.model,
        stated_years=remote.stated_years_experience,
        offline_fallback="offline_fallback" in remote_warnings,
    )
    return outcome.stored_result(job_role=hints.get("job_role")), remote.extracted_photo_url


# --- rewrite ---------------------------------------------------------------------------------------------------

REWRITE_BUDGET_SECONDS = 240.0  # rewrite_cv has a 360 s hard limit (soft 300 s)


def rewrite_with_remote(
    current: CVDataInput, instruction: str | None, facts: CandidateFacts
) -> tuple[CVDataInput, list[str]]:
    """Rewrite through the AI service (pipeline.md §10), polling it from the rewrite task.

    Transient HTTP errors → TransientError (the task retries); a refused, failed, invalid or unfinished rewrite
    → ``RewriteInvalid``. The answer is re-validated and sanitised here; the caller checks the invariants.
    """
    from .rewrite import RewriteInvalid

    body = {"cv_data": current.model_dump(), "instruction": (instruction or "").strip()[:1000] or None}
    deadline = time.monotonic() + min(REWRITE_BUDGET_SECONDS, settings.AI_POLL_MAX_WAIT_SECONDS)
    try:
        with _client() as client:
            response = client.post(f"{settings.AI_BASE_URL}/api/v1/rewrite", json=body)
            _raise_if_transient(response)
            task_id = _accepted_task_id(response)
            if task_id is None:
                raise RewriteInvalid(f"The AI service refused the rewrite (HTTP {response.status_code}).")
            while True:
                response = client.get(f"{settings.AI_BASE_URL}/api/v1/tasks/{task_id}")
                _raise_if_transient(response)
                state = response.json().get("status") if response.status_code == 200 else None
                if state == "completed":
                    result = response.json().get("result") or {}
                    break
                if state == "failed":
                    raise RewriteInvalid(_failure(response.json().get("error"))[1])
                if state not in ("PENDING", "STARTED", "RETRY"):
                    raise RewriteInvalid(
                        f"The AI service answered HTTP {response.status_code} for the rewrite."
                    )
                if time.monotonic() >= deadline:
                    raise RewriteInvalid("The AI service did not finish the rewrite in time.")
                time.sleep(min(2.0, settings.AI_POLL_INTERVAL_SECONDS))
    except httpx.TimeoutException as exc:
        raise TransientError(f"The AI service did not answer ({type(exc).__name__}).")
    except (ValueError, AttributeError):  # a body that is not a JSON object
        raise RewriteInvalid("The AI service's rewrite answer is not JSON.")
    try:
        rewritten, warnings = validate_cv_data(result.get("data_extracted") or {})
    except (ValidationError, AttributeError):
        raise RewriteInvalid("The AI service returned an invalid rewrite.")
    remote_warnings = [w[:100] for w in result.get("warnings") or [] if isinstance(w, str)][:50]
    protected = tuple(job.company for job in current.employment_history if job.company) + tuple(
        current.qualifications
    )
    facts = replace(facts, protected_names=facts.protected_names or protected)
    rewritten = rewritten.model_copy(
        update={
            "professional_profile": plain_text(rewritten.professional_profile),
            "email_subject": plain_text(rewritten.email_subject),
            "email_body": plain_text(rewritten.email_body),
        }
    )
    clean, more = validate_cv_data(sanitise_cv_data(rewritten, facts).model_dump())
    return clean, list(dict.fromkeys([*remote_warnings, *warnings, *more]))


# --- the photo -------------------------------------------------------------------------------------------------


def _default_port(parts) -> int | None:
    try:
        return parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None


def photo_source(url: str, remote_task_id: str) -> str | None:
    """The URL to fetch the photo from, or None when ``url`` is not this task's photo on the AI_BASE_URL host.

    Whatever the service says, the request goes to ``AI_BASE_URL`` itself (never to another host or path).
    """
    base, given = urlsplit(settings.AI_BASE_URL), urlsplit(url)
    expected_path = f"{base.path.rstrip('/')}/api/v1/tasks/{remote_task_id}/photo"
    if (
        given.hostname is None
        or given.username is not None
        or (given.hostname, _default_port(given)) != (base.hostname, _default_port(base))
        or given.path.rstrip("/") != expected_path
        or given.query
    ):
        return None
    return f"{settings.AI_BASE_URL}/api/v1/tasks/{remote_task_id}/photo"


def fetch_photo(url: str, remote_task_id: str) -> bytes:
    """The photo as a clean JPEG (≤ 600 px, no metadata). Raises photos.InvalidImage for anything else."""
    source = photo_source(url, remote_task_id)
    if source is None:
        raise photos.InvalidImage("The photo URL is not on the AI service host.")
    data = bytearray()
    try:
        with _client() as client, client.stream("GET", source) as response:
            if response.status_code != 200:
                raise photos.InvalidImage(
                    f"The AI service answered HTTP {response.status_code} for the photo."
                )
            declared = response.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_PHOTO_BYTES:
                raise photos.InvalidImage("The photo is larger than 5 MB.")
            for chunk in response.iter_bytes(64 * 1024):
                data += chunk
                if len(data) > MAX_PHOTO_BYTES:
                    raise photos.InvalidImage("The photo is larger than 5 MB.")
    except httpx.HTTPError as exc:
        raise photos.InvalidImage(f"The photo could not be fetched ({type(exc).__name__}).")
    return photos.reencode(bytes(data), formats=photos.ACCEPTED_FORMATS)


def _store_remote_photo(candidate: Candidate, url: str, remote_task_id: str) -> tuple[str | None, str | None]:
    """(storage key, None) or (None, warning code); a photo never fails the analysis."""
    try:
        jpeg = fetch_photo(url, remote_task_id)
    except photos.InvalidImage as exc:
        logger.warning("Photo of candidate %s not taken from the AI service: %s", candidate.id, exc)
        return None, "photo_not_fetched"
    return documents.store_photo(candidate.id, jpeg), None


# --- HTTP ------------------------------------------------------------------------------------------------------


def _client() -> httpx.Client:
    return httpx.Client(
        timeout=TIMEOUT,
        follow_redirects=False,
        trust_env=False,
        headers={"Authorization": f"Bearer {settings.AI_SERVICE_TOKEN}", "User-Agent": "cvengine-backend"},
    )


def _raise_if_transient(response: httpx.Response) -> None:
    """HTTP 408/429/5xx → TransientError honouring Retry-After (the task retries with backoff)."""
    if response.status_code in (408, 429) or response.status_code >= 500:
        retry_after = response.headers.get("retry-after", "")
        raise TransientError(
            f"The AI service answered HTTP {response.status_code}.",
            retry_after=float(retry_after) if retry_after.replace(".", "", 1).isdigit() else None,
        )
