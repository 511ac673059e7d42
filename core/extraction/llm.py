"""The LLM provider: any OpenAI-compatible chat-completions server (pipeline.md §5 "LLM", §6, §7, §10).

What is sent: the normalised CV text (≤ 60 000 characters), delimited and declared as data, the prompts in
``core/extraction/prompts/`` and the batch hints; for a rewrite, the anonymised client-facing CV JSON and the
operator's instruction. Never the file, the photo or anything else (prompts/README.md).

One analysis is normally ONE chat-completions call. At most: one step down the structured-output ladder per
unsupported rung (remembered per server and model for the life of the process), one re-ask with the validation
errors, one retry with a doubled token budget after a refusal or ``finish_reason=length``, and
``LLMConfig.max_retries`` in-process retries of HTTP 429/5xx and connection errors.

Model output is never trusted (reference-defects S11, V4): it is parsed (with JSON repair when the server has no
structured mode), validated with pydantic (limits by truncation), grounded against the source text (e-mail, phone,
full name, postcode; the given name must be a token of the full name), experience is recomputed from the date
ranges in code, client-facing text is sanitised and quality is assessed by the shared rules.

Errors: :class:`LLMTransientError` (try again later, ``retry_after`` seconds when the server said so),
:class:`LLMInvalidOutput` (``invalid_ai_output``) and :class:`LLMUnavailable` (``ai_unavailable``). With
``LLMConfig.fallback_to_offline`` a permanent failure gives the offline result instead, with warning and quality
reason ``offline_fallback``. This module imports no Django and no Celery; the callers map the errors.
"""

import email.utils
import hashlib
import json
import logging
import math
import random
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from functools import cache
from pathlib import Path
from string import Template
from typing import Any, Protocol

import openai
import phonenumbers
from pydantic import ValidationError

from core.extraction.experience import experience_label, total_experience
from core.extraction.normalise import (
    clean_list,
    fold,
    normalise_name,
    normalise_postcode,
    parse_phone,
)
from core.extraction.offline import analyse_offline, as_list, stated_years_hint
from core.extraction.quality import QualityVerdict, assess_quality
from core.extraction.sanitise import CandidateFacts
from core.extraction.schema import (
    AIAnalysisResult,
    CVDataInput,
    analysis_json_schema,
    build_stored_result,
    strict_schema,
    validate_analysis,
    validate_cv_data,
)
from core.extraction.writer import london_today, plain_text, rewrite_offline, sanitise_cv_data

logger = logging.getLogger(__name__)

PROVIDER = "llm"
PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
PROMPT_FILES = (
    "analysis_system.txt",
    "analysis_user.txt",
    "hints.txt",
    "rewrite_system.txt",
    "rewrite_user.txt",
    "schema_block.txt",
    "reask.txt",
)
PROMPT_SERIES = "1"  # bump by hand for a change in how prompts are used; text changes are hashed in
STRUCTURED_MODES = ("json_schema", "json_object", "prompt")
MAX_INSTRUCTION_CHARS = 1000
MAX_REASK_ERRORS = 20
FALLBACK_WARNING = "offline_fallback"


@cache
def prompt(name: str) -> Template:
    return Template((PROMPTS_DIR / name).read_text(encoding="utf-8"))


def _prompt_version() -> str:
    digest = hashlib.sha256()
    for name in PROMPT_FILES:
        digest.update(name.encode() + b"\0" + (PROMPTS_DIR / name).read_bytes() + b"\0")
    return f"{PROMPT_SERIES}.{digest.hexdigest()[:10]}"


PROMPT_VERSION = _prompt_version()  # part of the result cache key: a prompt edit never reuses old answers


# --- configuration and errors ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LLMConfig:
    """How to reach the model and how hard to try. Built from settings by the caller (Django or the AI service)."""

    base_url: str
    model: str
    api_key: str = "not-needed"
    structured_mode: str = "json_schema"  # first rung of the ladder json_schema → json_object → prompt
    timeout_seconds: float = 120.0  # one HTTP call
    max_output_tokens: int = 4000
    rate_limit_per_minute: int = 20  # calls per process and server
    max_concurrency: int = 4  # simultaneous calls per process
    max_retries: int = 2  # in-process retries of 429/5xx/connection errors
    retry_base_seconds: float = 1.0
    max_retry_wait_seconds: float = 30.0  # a longer wait is handed to the caller (a task retry) instead
    budget_seconds: float | None = None  # wall-clock budget of one analysis or rewrite (None: unbounded)
    fallback_to_offline: bool = False

    def __post_init__(self) -> None:
        if not self.base_url or not self.model:
            raise ValueError("LLMConfig needs base_url and model.")
        if self.structured_mode not in STRUCTURED_MODES:
            raise ValueError(f"structured_mode must be one of {', '.join(STRUCTURED_MODES)}.")
        if self.timeout_seconds <= 0 or self.max_output_tokens < 256:
            raise ValueError("timeout_seconds must be positive and max_output_tokens at least 256.")
        if self.rate_limit_per_minute < 1 or self.max_concurrency < 1 or self.max_retries < 0:
            raise ValueError("rate_limit_per_minute and max_concurrency must be ≥ 1, max_retries ≥ 0.")


class LLMError(Exception):
    """A failure of the LLM provider; ``code`` is the pipeline failure code."""

    code = "ai_unavailable"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class LLMTransientError(LLMError):
    """Worth retrying later (HTTP 429/5xx, timeouts, connection errors, local rate limit)."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class LLMUnavailable(LLMError):
    """The server refuses the request for good (authentication, unknown model, bad request)."""

    code = "ai_unavailable"


class LLMInvalidOutput(LLMError):
    """The model's answer stayed unusable after the re-ask, or it refused or ran out of tokens twice."""

    code = "invalid_ai_output"


class ResultCache(Protocol):
    """Where validated model answers are kept (Django's cache in the backend); values are JSON-able dicts."""

    def get(self, key: str) -> Any: ...

    def set(self, key: str, value: Any) -> None: ...


# --- outcome ---------------------------------------------------------------------------------------------------


@dataclass
class LLMOutcome:
    """A finished analysis: the same facts the offline AnalysisOutcome carries, plus how it was obtained."""

    result: AIAnalysisResult
    experience_months: int
    quality: QualityVerdict
    warnings: list[str]
    has_photo: bool = False
    stated_years_experience: float | None = None
    provider: str = PROVIDER
    model: str | None = None
    calls: int = 0  # chat-completions calls made for this result (0 when cached or offline)
    cached: bool = False
    ungrounded: list[str] = field(default_factory=list)

    def stored_result(
        self, *, job_role: list[str] | str | None = None, generated_at: datetime | None = None
    ) -> dict:
        """The ``ai_enhanced_cv_content`` dict (pipeline.md §6), identical in shape to the offline provider's."""
        return build_stored_result(
            self.result,
            quality_check=self.quality.check,
            quality_reasons=self.quality.reasons,
            experience_months=self.experience_months,
            provider=self.provider,
            model=self.model,
            warnings=self.warnings,
            job_role=job_role,
            stated_years_experience=self.stated_years_experience,
            generated_at=generated_at,
        )


# --- the public entry points -----------------------------------------------------------------------------------


def analyse_with_llm(
    text: str,
    *,
    config: LLMConfig,
    hints: dict | None = None,
    has_photo: bool = False,
    ocr_used: bool = False,
    today: date | None = None,
    cache: ResultCache | None = None,
    cache_key: str | None = None,
    is_known_town: Callable[[str], bool] | None = None,
) -> LLMOutcome:
    """Analyse CV ``text`` with the model; returns an outcome whose ``stored_result()`` is the §6 dict.

    ``cache``/``cache_key`` (see :func:`analysis_cache_key`) keep the validated model answer, so a repeated
    analysis of the same file costs no call; grounding, experience and quality are recomputed every time.
    Raises LLMTransientError, or LLMInvalidOutput/LLMUnavailable unless ``config.fallback_to_offline``.
    """
    hints = hints or {}
    today = today or london_today()
    try:
        answer, warnings, calls, cached = _analysis_answer(text, config, hints, cache, cache_key)
    except LLMTransientError:
        raise
    except LLMError as exc:
        if not config.fallback_to_offline:
            raise
        logger.warning("LLM analysis failed (%s); using the offline parser", exc.code)
        return offline_fallback(
            text,
            hints=hints,
            has_photo=has_photo,
            ocr_used=ocr_used,
            today=today,
            is_known_town=is_known_town,
        )
    outcome = finalise_analysis(
        answer,
        text,
        hints=hints,
        has_photo=has_photo,
        ocr_used=ocr_used,
        today=today,
        warnings=warnings,
        provider=PROVIDER,
        model=config.model,
    )
    outcome.calls, outcome.cached = calls, cached
    return outcome


def rewrite_with_llm(
    cv_data: CVDataInput, instruction: str | None, facts: CandidateFacts, config: LLMConfig
) -> tuple[CVDataInput, list[str]]:
    """Rewrite the profile and responsibilities and refresh the e-mail (pipeline.md §10).

    Jobs, dates, employers and titles are invariants: an answer that changes them is re-asked once, then
    rejected (LLMInvalidOutput). Only the rewritable fields are taken from the model; the rest is kept from
    ``cv_data``; the result is sanitised with ``facts``. With ``fallback_to_offline`` a permanent failure gives
    the offline rewrite plus warning ``offline_fallback``.
    """
    instruction = (instruction or "").strip()[:MAX_INSTRUCTION_CHARS]
    try:
        answer, warnings, _calls = _rewrite_answer(cv_data, instruction, config)
    except LLMTransientError:
        raise
    except LLMError as exc:
        if not config.fallback_to_offline:
            raise
        logger.warning("LLM rewrite failed (%s); using the offline rewrite", exc.code)
        rewritten, warnings = rewrite_offline(cv_data, instruction or None, facts=facts)
        return rewritten, list(dict.fromkeys([*warnings, FALLBACK_WARNING]))
    history = [
        job.model_copy(update={"responsibilities": list(new.responsibilities)})
        for job, new in zip(cv_data.employment_history, answer.employment_history, strict=True)
    ]
    merged = cv_data.model_copy(
        update={
            "professional_profile": plain_text(answer.professional_profile),
            "employment_history": history,
            "email_subject": plain_text(answer.email_subject),
            "email_body": plain_text(answer.email_body),
        }
    )
    protected = tuple(job.company for job in history if job.company) + tuple(cv_data.qualifications)
    facts = replace(facts, protected_names=facts.protected_names or protected)
    result, more = validate_cv_data(sanitise_cv_data(merged, facts).model_dump())
    return result, list(dict.fromkeys([*warnings, *more]))


def analysis_cache_key(sha256: str, model: str, hints: dict | None = None) -> str:
    """Cache key of a validated analysis answer: (file sha256, PROMPT_VERSION, model, batch hints)."""
    hints_json = json.dumps(hints or {}, sort_keys=True, default=str)
    digest = hashlib.sha256(json.dumps([PROMPT_VERSION, model, sha256, hints_json]).encode()).hexdigest()
    return f"llm-analysis:{digest}"


def offline_fallback(
    text: str,
    *,
    hints: dict | None,
    has_photo: bool,
    ocr_used: bool,
    today: date,
    is_known_town: Callable[[str], bool] | None = None,
) -> LLMOutcome:
    """The offline result after a permanent AI failure: warning and quality reason ``offline_fallback``."""
    offline = analyse_offline(
        text, has_photo=has_photo, hints=hints, today=today, ocr_used=ocr_used, is_known_town=is_known_town
    )
    cv = offline.parsed
    verdict = assess_quality(
        experience_months=offline.experience_months,
        full_name=cv.full_name,
        given_name=cv.given_name,
        email=cv.email,
        ocr_used=ocr_used,
        offline_fallback=True,
    )
    return LLMOutcome(
        result=offline.result,
        experience_months=offline.experience_months,
        quality=verdict,
        warnings=list(dict.fromkeys([*offline.warnings, FALLBACK_WARNING])),
        has_photo=has_photo,
        stated_years_experience=offline.stated_years_experience,
        provider="offline",
        model=None,
    )


# --- post-processing shared by the LLM and the remote result -------------------------------------------------


def finalise_analysis(
    answer: AIAnalysisResult,
    text: str,
    *,
    hints: dict | None = None,
    has_photo: bool = False,
    ocr_used: bool = False,
    today: date | None = None,
    warnings: list[str] | tuple[str, ...] = (),
    provider: str = PROVIDER,
    model: str | None = None,
    stated_years: float | None = None,
    offline_fallback: bool = False,
) -> LLMOutcome:
    """Distrust an analysis answer: ground it in ``text``, recompute experience, sanitise, assess quality.

    Used for the model's answer here and, by the backend, for a result coming back from the AI service.
    """
    hints = hints or {}
    today = today or london_today()
    info = answer.extracted_personal_info
    grounded, ungrounded = ground_personal_info(answer, text)
    experience = total_experience([job.date_range for job in answer.employment_history], today)
    if stated_years is None:
        stated_years = info.total_years_experience
    if stated_years is None:
        stated_years = stated_years_hint(hints.get("experience"))

    data = answer.model_dump()
    personal = data["extracted_personal_info"]
    personal.update(
        full_name=grounded["full_name"],
        email=grounded["email"],
        whatsapp=grounded["whatsapp"],
        postcode=grounded["postcode"],
        total_years_experience=experience.years,
        experience_summary=experience_label(experience.months),
    )
    if not data["role"]:
        data["role"] = clean_list(as_list(hints.get("job_role")))
    if not data["location"] and isinstance(hints.get("current_location"), str):
        data["location"] = hints["current_location"].strip()
    data["professional_profile"] = plain_text(data["professional_profile"])
    data["email_subject"] = plain_text(data["email_subject"])
    data["email_body"] = plain_text(data["email_body"])
    given = grounded["given_name"]
    data["name"] = given or "Candidate"

    full_name = grounded["full_name"]
    surname = full_name.split()[-1] if full_name and len(full_name.split()) > 1 else None
    address = personal.get("location")
    facts = CandidateFacts(
        given_name=given,
        full_name=full_name,
        surname=surname,
        email=grounded["email"],
        phone=grounded["whatsapp"],
        postcode=grounded["postcode"],
        town=data["location"] or None,
        address=address if address and address != data["location"] else None,
        protected_names=tuple(job["company"] for job in data["employment_history"] if job["company"])
        + tuple(data["qualifications"]),
    )
    result, more = validate_analysis(data)
    result, after = validate_analysis(sanitise_cv_data(result, facts).model_dump())
    verdict = assess_quality(
        experience_months=experience.months,
        full_name=full_name,
        given_name=given,
        email=grounded["email"],
        ocr_used=ocr_used,
        ungrounded_fields=ungrounded,
        offline_fallback=offline_fallback,
    )
    codes = [f"ungrounded_{name}" for name in ungrounded]
    if offline_fallback:
        codes.append(FALLBACK_WARNING)
    return LLMOutcome(
        result=result,
        experience_months=experience.months,
        quality=verdict,
        warnings=list(dict.fromkeys([*warnings, *codes, *experience.warnings, *more, *after])),
        has_photo=has_photo,
        stated_years_experience=stated_years,
        provider=provider,
        model=model,
        ungrounded=ungrounded,
    )


_SPACE = re.compile(r"\s+")
_NAME_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*")
_DIGIT_RUN = re.compile(r"\+?\d[\d \t().\-/]{5,}\d")
_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "dame", "rev"}


def _squash(value: str) -> str:
    return _SPACE.sub("", value).casefold()


def _name_tokens(name: str) -> list[str]:
    return [token.casefold() for token in _NAME_TOKEN.findall(name)]


def _name_in_text(name: str, text: str, words: set[str]) -> bool:
    """The whole name occurs (case/space-insensitive), or each of its tokens is a word of the text
    ("SMITH, Jane" grounds "Jane Smith"). Accents are compared folded."""
    if _squash(fold(name)) in _squash(fold(text)):
        return True
    tokens = [fold(token) for token in _NAME_TOKEN.findall(name) if len(token) > 1]
    return bool(tokens) and all(token in words for token in tokens)


def _phone_in_text(phone: str, text: str) -> bool:
    """Compared by digits: the national number must occur inside one digit run of the text."""
    number = parse_phone(phone)
    digits = str(phonenumbers.national_significant_number(number)) if number else re.sub(r"\D", "", phone)
    if len(digits) < 7:
        return False
    return any(digits in re.sub(r"\D", "", run) for run in _DIGIT_RUN.findall(text))


def ground_personal_info(answer: AIAnalysisResult, text: str) -> tuple[dict[str, Any], list[str]]:
    """Keep only personal details that occur in the source ``text``; returns (values, ungrounded field names).

    ``email``, ``phone`` (``whatsapp``), ``full_name`` and ``postcode`` must occur in the text (case- and
    space-insensitive; phones by digits, postcodes by letters and digits). The given name (``name``) must be a
    token of the grounded full name — otherwise the full name's first token is used — or, with no full name,
    a word of the text.
    """
    info = answer.extracted_personal_info
    squashed = _squash(text)
    words = {fold(word) for word in _NAME_TOKEN.findall(text)}
    ungrounded: list[str] = []

    email = info.email
    if email and _squash(email) not in squashed:
        email = None
        ungrounded.append("email")
    phone = info.whatsapp
    if phone and not _phone_in_text(phone, text):
        phone = None
        ungrounded.append("phone")
    full_name = normalise_name(info.full_name)
    if full_name and not _name_in_text(full_name, text, words):
        full_name = None
        ungrounded.append("full_name")
    postcode = info.postcode
    if postcode:
        alnum = re.sub(r"[^0-9a-z]", "", postcode.casefold())
        if not alnum or alnum not in re.sub(r"[^0-9a-z]", "", text.casefold()):
            postcode = None
            ungrounded.append("postcode")
        else:
            postcode = normalise_postcode(postcode) or postcode

    given = normalise_name(answer.name)
    if given and given.casefold() == "candidate":
        given = None
    if full_name:
        tokens = _name_tokens(full_name)
        if not given or not set(_name_tokens(given)) <= set(tokens):
            if given:
                ungrounded.append("name")
            given = next((t for t in _NAME_TOKEN.findall(full_name) if t.casefold() not in _TITLES), None)
    elif given and not all(fold(token) in words for token in _NAME_TOKEN.findall(given)):
        given = None
        ungrounded.append("name")
    values = {
        "email": email,
        "whatsapp": phone,
        "full_name": full_name,
        "postcode": postcode,
        "given_name": given,
    }
    return values, ungrounded


# --- analysis and rewrite conversations ------------------------------------------------------------------------


def _marker(*parts: str) -> str:
    """A delimiter suffix derived from the content: the content cannot contain its own end marker."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]


def analysis_messages(text: str, hints: dict | None) -> list[dict[str, str]]:
    """System and user messages of an analysis (the schema block is added per structured mode)."""
    hints = {k: v for k, v in (hints or {}).items() if v not in (None, "", [], {})}
    hints_block = (
        prompt("hints.txt").substitute(hints_json=json.dumps(hints, ensure_ascii=False, indent=1))
        if hints
        else ""
    )
    user = prompt("analysis_user.txt").substitute(hints=hints_block, marker=_marker(text), cv_text=text)
    return [
        {"role": "system", "content": prompt("analysis_system.txt").template},
        {"role": "user", "content": user},
    ]


def rewrite_messages(cv_data: CVDataInput, instruction: str) -> list[dict[str, str]]:
    cv_json = json.dumps(cv_data.model_dump(), ensure_ascii=False, indent=1)
    user = prompt("rewrite_user.txt").substitute(
        marker=_marker(cv_json, instruction), instruction=instruction, cv_json=cv_json
    )
    return [
        {"role": "system", "content": prompt("rewrite_system.txt").template},
        {"role": "user", "content": user},
    ]


@cache
def rewrite_json_schema() -> dict[str, Any]:
    return strict_schema(CVDataInput.model_json_schema())


def _analysis_answer(
    text: str, config: LLMConfig, hints: dict, cache: ResultCache | None, cache_key: str | None
) -> tuple[AIAnalysisResult, list[str], int, bool]:
    if cache is not None and cache_key:
        hit = cache.get(cache_key)
        if isinstance(hit, dict) and isinstance(hit.get("analysis"), dict):
            try:
                answer, warnings = validate_analysis(hit["analysis"])
                return answer, list(dict.fromkeys([*hit.get("warnings", []), *warnings])), 0, True
            except ValidationError:
                logger.warning("Ignoring an invalid cached LLM answer")
    answer, warnings, calls = structured_call(
        config,
        analysis_messages(text, hints),
        schema_name="cv_analysis",
        schema=analysis_json_schema(),
        validate=validate_analysis,
        purpose="analysis",
    )
    if cache is not None and cache_key:
        cache.set(cache_key, {"analysis": answer.model_dump(), "warnings": warnings})
    return answer, warnings, calls, False


class _InvariantBroken(ValueError):
    pass


def _rewrite_answer(
    cv_data: CVDataInput, instruction: str, config: LLMConfig
) -> tuple[CVDataInput, list[str], int]:
    def validate(data: dict) -> tuple[CVDataInput, list[str]]:
        answer, warnings = validate_cv_data(data)
        before, after = cv_data.employment_history, answer.employment_history
        if len(before) != len(after):
            raise _InvariantBroken(
                f"employment_history must keep all {len(before)} jobs in the same order (got {len(after)})."
            )
        for index, (a, b) in enumerate(zip(before, after, strict=True)):
            for name in ("date_range", "role", "company"):
                if getattr(a, name) != getattr(b, name):
                    raise _InvariantBroken(
                        f"employment_history[{index}].{name} must stay exactly {getattr(a, name)!r}."
                    )
        return answer, warnings

    try:
        return structured_call(
            config,
            rewrite_messages(cv_data, instruction),
            schema_name="cv_rewrite",
            schema=rewrite_json_schema(),
            validate=validate,
            purpose="rewrite",
        )
    except LLMInvalidOutput as exc:
        if isinstance(exc.__cause__, _InvariantBroken):
            raise LLMInvalidOutput("rewrite changed immutable fields") from exc
        raise


# --- the structured-output conversation ------------------------------------------------------------------------

_mode_lock = threading.Lock()
_working_mode: dict[tuple[str, str], int] = {}  # (base_url, model) → lowest usable rung index


def _start_rung(config: LLMConfig) -> int:
    with _mode_lock:
        return max(STRUCTURED_MODES.index(config.structured_mode), _working_mode.get(_server(config), 0))


def _step_down(config: LLMConfig, rung: int) -> None:
    with _mode_lock:
        key = _server(config)
        _working_mode[key] = max(_working_mode.get(key, 0), rung)


def _server(config: LLMConfig) -> tuple[str, str]:
    return config.base_url.rstrip("/"), config.model


def structured_call[T](
    config: LLMConfig,
    messages: list[dict[str, str]],
    *,
    schema_name: str,
    schema: dict[str, Any],
    validate: Callable[[dict[str, Any]], tuple[T, list[str]]],
    purpose: str = "analysis",
) -> tuple[T, list[str], int]:
    """Ask for one JSON object and return ``validate(data)`` plus the call count (see the module docstring)."""
    deadline = time.monotonic() + config.budget_seconds if config.budget_seconds else None
    rung = _start_rung(config)
    max_tokens = config.max_output_tokens
    conversation = list(messages)
    reasked = enlarged = False
    calls = 0
    started = time.monotonic()
    while True:
        mode = STRUCTURED_MODES[rung]
        try:
            reply = _complete(
                config, _for_mode(conversation, mode, schema), mode, schema_name, schema, max_tokens, deadline
            )
        except _ModeUnsupported:
            if rung + 1 >= len(STRUCTURED_MODES):
                raise LLMUnavailable("The LLM server rejected the request in every structured-output mode.")
            rung += 1
            _step_down(config, rung)
            logger.info("LLM server does not accept %s output; using %s", mode, STRUCTURED_MODES[rung])
            continue
        calls += 1
        if reply.refusal or reply.finish_reason in ("length", "content_filter"):
            problem = "truncated at the token limit" if reply.finish_reason == "length" else "a refusal"
            if enlarged:
                raise LLMInvalidOutput(
                    f"The model's {purpose} answer was {problem}, also with a larger budget."
                )
            enlarged = True
            max_tokens *= 2
            logger.info("LLM %s answer was %s; retrying once with %d tokens", purpose, problem, max_tokens)
            continue
        try:
            value, warnings = validate(parse_json_object(reply.content or ""))
        except (ValueError, ValidationError) as exc:
            errors = describe_errors(exc)
            if reasked:
                raise LLMInvalidOutput(
                    f"The model's {purpose} answer is invalid after a re-ask: {errors[:500]}"
                ) from exc
            reasked = True
            logger.info("LLM %s answer invalid; re-asking once", purpose)
            conversation = [
                *conversation,
                {"role": "assistant", "content": reply.content or ""},
                {"role": "user", "content": prompt("reask.txt").substitute(errors=errors)},
            ]
            continue
        logger.info(
            "LLM %s done: model=%s mode=%s calls=%d seconds=%.1f",
            purpose,
            config.model,
            mode,
            calls,
            time.monotonic() - started,
        )
        return value, warnings, calls


def _for_mode(messages: list[dict[str, str]], mode: str, schema: dict[str, Any]) -> list[dict[str, str]]:
    """Below ``json_schema`` the schema travels in the system prompt instead of ``response_format``."""
    if mode == "json_schema":
        return messages
    block = prompt("schema_block.txt").substitute(schema_json=json.dumps(schema, separators=(",", ":")))
    first, *rest = messages
    return [{**first, "content": first["content"] + block}, *rest]


def describe_errors(exc: Exception) -> str:
    """Validation errors for the re-ask: field paths and messages, never the (personal) input values."""
    if isinstance(exc, ValidationError):
        lines = [
            f"{'.'.join(str(p) for p in error['loc']) or '(root)'}: {error['msg']}"
            for error in exc.errors(include_input=False, include_url=False)[:MAX_REASK_ERRORS]
        ]
        more = exc.error_count() - len(lines)
        return (
            "the JSON does not match the schema: "
            + "; ".join(lines)
            + (f"; and {more} more" if more > 0 else "")
        )
    return str(exc)


_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n?(.*?)\n?\s*```\s*$", re.DOTALL)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def parse_json_object(content: str) -> dict[str, Any]:
    """The JSON object in a model answer, repairing the usual damage: code fences, prose around the object,
    trailing commas. Raises ValueError when there is no object."""
    try:
        value = json.loads(content)
    except ValueError:
        value = _repair(content)
    if not isinstance(value, dict):
        raise ValueError("the answer is not a JSON object.")
    return value


def _repair(content: str) -> Any:
    text = content.strip()
    fenced = _FENCE.match(text)
    if fenced:
        text = fenced.group(1)
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        raise ValueError("the answer contains no JSON object.")
    text = text[start : end + 1]
    for candidate in (text, _TRAILING_COMMA.sub(r"\1", text)):
        try:
            return json.loads(candidate)
        except ValueError:
            continue
    raise ValueError("the answer is not valid JSON.")


# --- one HTTP call: limits, retries and error mapping ----------------------------------------------------------


@dataclass(frozen=True)
class _Reply:
    content: str | None
    finish_reason: str | None
    refusal: str | None


class _ModeUnsupported(Exception):
    pass


_STRUCTURED_HINT = re.compile(r"response_format|json_schema|json_object|structured|schema|grammar", re.I)
_clients_lock = threading.Lock()
_clients: dict[tuple[str, str, float], openai.OpenAI] = {}


def _client(config: LLMConfig) -> openai.OpenAI:
    key = (config.base_url, config.api_key, config.timeout_seconds)
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            client = openai.OpenAI(
                base_url=config.base_url,
                api_key=config.api_key or "not-needed",
                timeout=config.timeout_seconds,
                max_retries=0,  # retries are ours: bounded, logged and mapped to the caller's retry policy
            )
            _clients[key] = client
        return client


def _complete(
    config: LLMConfig,
    messages: list[dict[str, str]],
    mode: str,
    schema_name: str,
    schema: dict[str, Any],
    max_tokens: int,
    deadline: float | None,
) -> _Reply:
    kwargs: dict[str, Any] = {
        "model": config.model,
        "messages": messages,
        "temperature": 0,
        "max_tokens": max_tokens,
    }
    if mode == "json_schema":
        kwargs["response_format"] = {
            "type": "json_schema",
            "json_schema": {"name": schema_name, "strict": True, "schema": schema},
        }
    elif mode == "json_object":
        kwargs["response_format"] = {"type": "json_object"}
    attempt = 0
    while True:
        timeout = _remaining(deadline, config.timeout_seconds)
        try:
            with _limits(config, deadline):
                response = _client(config).chat.completions.create(**kwargs, timeout=timeout)
        except openai.APITimeoutError:
            raise LLMTransientError(f"The LLM server did not answer within {timeout:.0f} s.")
        except openai.APIConnectionError as exc:
            wait = _backoff(config, attempt, None)
            if attempt < config.max_retries and _fits(wait, config, deadline):
                attempt += 1
                time.sleep(wait)
                continue
            raise LLMTransientError(f"The LLM server is unreachable ({type(exc.__cause__ or exc).__name__}).")
        except openai.APIStatusError as exc:
            status = exc.status_code
            if status in (408, 409, 429) or status >= 500:
                retry_after = parse_retry_after(exc.response.headers)
                wait = _backoff(config, attempt, retry_after)
                if attempt < config.max_retries and _fits(wait, config, deadline):
                    attempt += 1
                    logger.info("LLM server answered HTTP %d; retrying in %.1f s", status, wait)
                    time.sleep(wait)
                    continue
                raise LLMTransientError(f"The LLM server answered HTTP {status}.", retry_after=retry_after)
            if status in (400, 422) and mode != "prompt" and _STRUCTURED_HINT.search(_error_text(exc)):
                raise _ModeUnsupported()
            raise LLMUnavailable(f"The LLM server refused the request (HTTP {status}).")
        except openai.APIResponseValidationError:
            raise LLMInvalidOutput("The LLM server's response is not a chat completion.")
        if not response.choices:
            raise LLMInvalidOutput("The LLM server returned no choices.")
        choice = response.choices[0]
        message = choice.message
        return _Reply(message.content, choice.finish_reason, getattr(message, "refusal", None))


def _error_text(exc: openai.APIStatusError) -> str:
    try:
        return exc.response.text[:2000]
    except Exception:
        return str(exc)[:2000]


def parse_retry_after(headers: Any) -> float | None:
    """Seconds from ``Retry-After`` (seconds or an HTTP date) or ``retry-after-ms``; None when absent."""
    if headers is None:
        return None
    milliseconds = headers.get("retry-after-ms")
    if milliseconds:
        try:
            return max(float(milliseconds) / 1000, 0.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        if parsed is None:
            return None
        seconds = email.utils.mktime_tz(parsed) - time.time()
    return max(seconds, 0.0) if math.isfinite(seconds) else None


def _backoff(config: LLMConfig, attempt: int, retry_after: float | None) -> float:
    delay = config.retry_base_seconds * (2**attempt) * random.uniform(0.8, 1.2)
    return max(delay, retry_after or 0.0)


def _fits(wait: float, config: LLMConfig, deadline: float | None) -> bool:
    if wait > config.max_retry_wait_seconds:
        return False
    return deadline is None or time.monotonic() + wait < deadline - 1


def _remaining(deadline: float | None, timeout: float) -> float:
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left < 1:
        raise LLMTransientError("The time budget for the LLM call is spent.")
    return min(timeout, left)


# Per-process limits: a semaphore bounds simultaneous calls, a sliding window the calls per minute.
_limits_lock = threading.Lock()
_semaphores: dict[int, threading.BoundedSemaphore] = {}
_windows: dict[tuple[str, str], deque[float]] = {}
RATE_WINDOW_SECONDS = 60.0


@contextmanager
def _limits(config: LLMConfig, deadline: float | None) -> Iterator[None]:
    with _limits_lock:
        semaphore = _semaphores.setdefault(
            config.max_concurrency, threading.BoundedSemaphore(config.max_concurrency)
        )
    wait_for = _remaining(deadline, config.timeout_seconds)
    if not semaphore.acquire(timeout=wait_for):
        raise LLMTransientError("Too many LLM calls in progress in this process.", retry_after=5.0)
    try:
        _take_rate_slot(config, deadline)
        yield
    finally:
        semaphore.release()


def _take_rate_slot(config: LLMConfig, deadline: float | None) -> None:
    while True:
        with _limits_lock:
            window = _windows.setdefault(_server(config), deque())
            now = time.monotonic()
            while window and now - window[0] >= RATE_WINDOW_SECONDS:
                window.popleft()
            if len(window) < config.rate_limit_per_minute:
                window.append(now)
                return
            wait = window[0] + RATE_WINDOW_SECONDS - now
        if not _fits(wait, config, deadline):
            raise LLMTransientError("AI_RATE_LIMIT reached for this process.", retry_after=math.ceil(wait))
        time.sleep(wait)


def reset_process_state() -> None:
    """Forget remembered structured modes, rate windows and clients (tests; a worker after a settings change)."""
    with _mode_lock:
        _working_mode.clear()
    with _limits_lock:
        _windows.clear()
        _semaphores.clear()
    with _clients_lock:
        for client in _clients.values():
            client.close()
        _clients.clear()
