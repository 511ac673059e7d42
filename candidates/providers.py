"""Django glue of the LLM provider (``AI_PROVIDER=llm``): settings, result cache and error mapping.

``core.extraction.llm`` does the work and imports no Django. Here its errors become the pipeline's:
transient ones (HTTP 429/5xx, timeouts, the local rate limit) → ``cvengine.celery.TransientError`` so the task
retries with backoff honouring Retry-After; permanent ones → ``AnalysisFailed("invalid_ai_output" |
"ai_unavailable")`` or, for a rewrite, ``RewriteInvalid``. Validated model answers are cached in Django's cache
by (file sha256, PROMPT_VERSION, model, batch hints) for ``AI_CACHE_TTL_SECONDS``, so a retried task or a
re-analysis of the same file never pays for a second call.
"""

import logging
from typing import Any

from celery import current_task
from django.conf import settings
from django.core.cache import cache

from core.extraction import llm
from core.extraction.sanitise import CandidateFacts
from core.extraction.schema import CVDataInput
from core.extraction.writer import london_today
from cvengine.celery import TransientError

logger = logging.getLogger(__name__)

# analyse_cv and rewrite_cv have a 360 s hard limit (soft 300 s): the whole conversation must end before it.
TASK_BUDGET_SECONDS = 270.0


def llm_config(*, fallback: bool | None = None) -> llm.LLMConfig:
    """The LLM configuration from settings (read per call, so tests and reloads see changes)."""
    return llm.LLMConfig(
        base_url=settings.OPENAI_BASE_URL,
        model=settings.AI_MODEL,
        api_key=settings.OPENAI_API_KEY or "not-needed",
        structured_mode=settings.AI_STRUCTURED_MODE,
        timeout_seconds=settings.AI_TIMEOUT_SECONDS,
        max_output_tokens=settings.AI_MAX_OUTPUT_TOKENS,
        rate_limit_per_minute=settings.AI_RATE_LIMIT,
        max_concurrency=settings.AI_MAX_CONCURRENCY,
        budget_seconds=TASK_BUDGET_SECONDS,
        fallback_to_offline=settings.AI_FALLBACK_TO_OFFLINE if fallback is None else fallback,
    )


class _DjangoCache:
    """The core's ResultCache protocol over Django's default cache, with the long LLM-result TTL."""

    def get(self, key: str) -> Any:
        return cache.get(key)

    def set(self, key: str, value: Any) -> None:
        cache.set(key, value, timeout=settings.AI_CACHE_TTL_SECONDS)


def _last_attempt() -> bool:
    """True inside a Celery task that has no retry left (its transient failure would be final)."""
    task = current_task._get_current_object() if current_task else None
    if task is None or task.request.called_directly:
        return False
    max_retries = task.max_retries
    return max_retries is not None and (task.request.retries or 0) >= max_retries


def analyse_with_llm(text: str, *, has_photo: bool, hints: dict, ocr_used: bool, sha256: str) -> dict:
    """The stored result (pipeline.md §6) of an LLM analysis of ``text``."""
    from organizations.geocoding import is_known_town

    from .analysis import AnalysisFailed

    hints = hints or {}
    config = llm_config()
    today = london_today()
    try:
        outcome = llm.analyse_with_llm(
            text,
            config=config,
            hints=hints,
            has_photo=has_photo,
            ocr_used=ocr_used,
            today=today,
            cache=_DjangoCache(),
            cache_key=llm.analysis_cache_key(sha256, config.model, hints),
            is_known_town=is_known_town,
        )
    except llm.LLMTransientError as exc:
        if config.fallback_to_offline and _last_attempt():
            logger.warning("LLM still unavailable on the last attempt; using the offline parser")
            outcome = llm.offline_fallback(
                text,
                hints=hints,
                has_photo=has_photo,
                ocr_used=ocr_used,
                today=today,
                is_known_town=is_known_town,
            )
        else:
            raise TransientError(exc.message, retry_after=exc.retry_after) from exc
    except llm.LLMError as exc:
        raise AnalysisFailed(exc.code, exc.message) from exc
    logger.info(
        "LLM analysis: provider=%s calls=%d cached=%s quality=%s",
        outcome.provider,
        outcome.calls,
        outcome.cached,
        outcome.quality.check,
    )
    return outcome.stored_result(job_role=hints.get("job_role"))


def rewrite_with_llm(
    current: CVDataInput, instruction: str, facts: CandidateFacts
) -> tuple[CVDataInput, list[str]]:
    """Rewrite the client-facing content with the LLM (pipeline.md §10); RewriteInvalid when it cannot."""
    from .rewrite import RewriteInvalid

    config = llm_config()
    try:
        return llm.rewrite_with_llm(current, instruction, facts, config)
    except llm.LLMTransientError as exc:
        if config.fallback_to_offline and _last_attempt():
            from core.extraction.writer import rewrite_offline

            rewritten, warnings = rewrite_offline(current, instruction or None, facts=facts)
            return rewritten, list(dict.fromkeys([*warnings, llm.FALLBACK_WARNING]))
        raise TransientError(exc.message, retry_after=exc.retry_after) from exc
    except llm.LLMError as exc:
        raise RewriteInvalid(exc.message) from exc
