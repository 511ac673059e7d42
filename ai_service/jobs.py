"""The work itself, run in the service's worker pool (never on the request thread).

Top-level functions with picklable arguments and results, so they run in a process pool: the same extraction
library the backend uses (text, photo, offline or LLM analysis, rewrite). A job returns a plain dict or raises
:class:`JobFailed` with a pipeline failure code; it never logs CV content.
"""

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.extraction.errors import ExtractionError
from core.extraction.filetypes import sniff
from core.extraction.llm import (
    LLMConfig,
    LLMError,
    LLMTransientError,
    analyse_with_llm,
    offline_fallback,
    rewrite_with_llm,
)
from core.extraction.offline import analyse_offline
from core.extraction.photo import extract_photo
from core.extraction.sanitise import CandidateFacts
from core.extraction.schema import validate_cv_data
from core.extraction.text import extract_text
from core.extraction.writer import london_today, rewrite_offline

logger = logging.getLogger("ai_service.jobs")


@dataclass(frozen=True)
class JobSettings:
    provider: str  # offline | llm
    llm: LLMConfig | None = None
    ocr: bool = True


class JobFailed(Exception):
    """A task that cannot succeed; ``code`` is a pipeline failure code, ``message`` is safe to show."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def regenerate(path: str, hints: dict[str, Any], settings: JobSettings) -> dict[str, Any]:
    """Analyse the CV file at ``path``: ``{"result": <stored result>, "photo": <JPEG bytes or None>}``."""
    started = time.monotonic()
    source = Path(path)
    try:
        kind = sniff(source)
        document = extract_text(source, kind, ocr=None if settings.ocr else False)
    except ExtractionError as exc:
        raise JobFailed(exc.code, exc.message)
    photo_warnings: list[str] = []
    photo = extract_photo(source, kind, warnings=photo_warnings)
    today = london_today()
    if settings.provider == "llm" and settings.llm is not None:
        try:
            outcome = analyse_with_llm(
                document.text,
                config=settings.llm,
                hints=hints,
                has_photo=photo is not None,
                ocr_used=document.ocr_used,
                today=today,
            )
        except LLMTransientError as exc:
            # No later retry exists here: the backend's poll would only time out. Fall back or fail now.
            if not settings.llm.fallback_to_offline:
                raise JobFailed("ai_unavailable", exc.message)
            outcome = offline_fallback(
                document.text,
                hints=hints,
                has_photo=photo is not None,
                ocr_used=document.ocr_used,
                today=today,
            )
        except LLMError as exc:
            raise JobFailed(exc.code, exc.message)
    else:
        outcome = analyse_offline(
            document.text, has_photo=photo is not None, hints=hints, today=today, ocr_used=document.ocr_used
        )
    stored = outcome.stored_result(job_role=hints.get("job_role"))
    stored["warnings"] = list(dict.fromkeys([*stored["warnings"], *document.warnings, *photo_warnings]))
    logger.info(
        "Regeneration done: type=%s provider=%s quality=%s seconds=%.1f",
        kind.value,
        stored["provider"],
        stored["quality_check"],
        time.monotonic() - started,
    )
    return {"result": stored, "photo": photo}


def rewrite(cv_data: dict[str, Any], instruction: str | None, settings: JobSettings) -> dict[str, Any]:
    """Rewrite client-facing CV content: ``{"status", "message", "data_extracted", "warnings"}``."""
    current, warnings = validate_cv_data(cv_data)
    given = current.name if current.name and current.name != "Candidate" else None
    facts = CandidateFacts(given_name=given, town=current.location or None)
    if settings.provider == "llm" and settings.llm is not None:
        try:
            result, more = rewrite_with_llm(current, instruction, facts, settings.llm)
        except LLMTransientError as exc:
            if not settings.llm.fallback_to_offline:
                raise JobFailed("ai_unavailable", exc.message)
            result, more = rewrite_offline(current, instruction, facts=facts)
            more = [*more, "offline_fallback"]
        except LLMError as exc:
            raise JobFailed(exc.code, exc.message)
    else:
        result, more = rewrite_offline(current, instruction, facts=facts)
    return {
        "status": "success",
        "message": "CV rewritten successfully.",
        "data_extracted": result.model_dump(),
        "warnings": list(dict.fromkeys([*warnings, *more])),
    }
