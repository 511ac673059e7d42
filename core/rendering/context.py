"""The render context: exactly what the enhanced CV shows (pipeline.md §8), in one canonical form.

``build_context`` adapts anonymised CV content (pipeline.md §6 ``data_extracted``) plus candidate overrides;
``canonical_context`` validates and normalises any context so that equal content gives equal bytes to hash
and to render; ``context_hash`` names the PDF (SHA-256 of canonical JSON plus the template version).
"""

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from core.rendering.errors import RenderError
from core.rendering.template import TEMPLATE_VERSION

TEXT_FIELDS = ("given_name", "role_line", "location", "availability", "profile", "interests")
LIST_FIELDS = ("employment_history", "qualifications")
JOB_FIELDS = ("company", "role", "date_range", "responsibilities")
MULTILINE_FIELDS = frozenset({"profile", "interests"})
FALLBACK_GIVEN_NAME = "Candidate"

# pipeline.md §6 caps: build_context keeps a stored result inside them.
MAX_ROLES = 10
MAX_JOBS = 30
MAX_BULLETS = 15
MAX_QUALIFICATIONS = 30
# Above the schema's worst case (30 jobs x 15 bullets x 500 chars plus the rest); bounds render time.
MAX_CONTEXT_CHARS = 300_000

# C0/C1 controls (tab and newline excepted: they are whitespace) and lone surrogates, which cannot be encoded.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n")
# Postcode pieces: a full unit postcode ("LS6 2AB") or a lone outward/inward code ("LS6", "2AB").
_POSTCODE_PIECE = re.compile(
    r"\b(?:[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]?|\d[A-Z]{2})\b", re.I
)


def build_context(
    cv: Mapping[str, Any] | None,
    *,
    given_name: str | None = None,
    full_name: str | None = None,
    roles: Sequence[str] | str | None = None,
    town: str | None = None,
) -> dict[str, Any]:
    """Return the canonical render context for anonymised CV content shaped like ``data_extracted``.

    Overrides come from the candidate record and win over the CV content when not blank (pipeline.md §8):
    given name ``given_name`` (name_without_surname) → ``cv["name"]`` → first token of ``full_name`` →
    "Candidate"; role line from ``roles`` (job_titles) → ``cv["role"]``, joined " | "; location ``town`` →
    ``cv["location"]``, reduced to town level. Every other key of ``cv`` (contact details, skills, quality,
    e-mail text, personal info) is ignored, so it can never reach the PDF.
    """
    if cv is None:
        cv = {}
    if not isinstance(cv, Mapping):
        raise RenderError("invalid_context", f"CV content must be a mapping, got {type(cv).__name__}.")
    first_of_full_name = _text(full_name, "full_name").split()[:1]
    context = {
        "given_name": _first_filled(
            _text(given_name, "given_name"), _text(cv.get("name"), "name"), *first_of_full_name
        ),
        "role_line": " | ".join(_role_list(roles, "roles") or _role_list(cv.get("role"), "role")),
        "location": _first_filled(
            town_only(_text(town, "town")), town_only(_text(cv.get("location"), "location"))
        ),
        "availability": _text(cv.get("availability"), "availability"),
        "profile": _text(cv.get("professional_profile"), "professional_profile"),
        "employment_history": [
            _job(entry, i)
            for i, entry in enumerate(_list(cv.get("employment_history"), "employment_history")[:MAX_JOBS])
        ],
        "qualifications": _list(cv.get("qualifications"), "qualifications")[:MAX_QUALIFICATIONS],
        "interests": _interests(cv.get("interests")),
    }
    return canonical_context(context)


def canonical_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """Validate ``context`` and return it normalised: fixed keys, trimmed text, blank items dropped.

    Unknown keys are refused rather than ignored, so nothing outside the rendered fields can ride along.
    Raises ``RenderError`` (``invalid_context`` / ``context_too_large``).
    """
    if not isinstance(context, Mapping):
        raise RenderError("invalid_context", f"Context must be a mapping, got {type(context).__name__}.")
    unknown = sorted(str(key) for key in context if key not in TEXT_FIELDS + LIST_FIELDS)
    if unknown:
        raise RenderError("invalid_context", f"Unknown context field(s): {', '.join(unknown)}.")
    canonical: dict[str, Any] = {}
    for field in TEXT_FIELDS:
        value = _text(context.get(field), field)
        canonical[field] = _paragraphs(value) if field in MULTILINE_FIELDS else _one_line(value)
    canonical["given_name"] = canonical["given_name"] or FALLBACK_GIVEN_NAME
    jobs = [
        _canonical_job(job, i)
        for i, job in enumerate(_strict_list(context.get("employment_history"), "employment_history"))
    ]
    canonical["employment_history"] = [job for job in jobs if any(job.values())]
    canonical["qualifications"] = _clean_lines(context.get("qualifications"), "qualifications")
    if len(json.dumps(canonical, ensure_ascii=False)) > MAX_CONTEXT_CHARS:
        raise RenderError("context_too_large", f"Context exceeds {MAX_CONTEXT_CHARS} characters.")
    return canonical


def context_hash(context: Mapping[str, Any], template_version: str = TEMPLATE_VERSION) -> str:
    """SHA-256 (hex) of the canonical context's JSON plus the template version: equal content, equal hash."""
    payload = json.dumps(
        canonical_context(context), ensure_ascii=False, sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(f"{template_version}\n{payload}".encode()).hexdigest()


def town_only(location: str) -> str:
    """Reduce a location to town level: drop postcode pieces and any comma part still holding digits.

    Defence in depth behind the pipeline's anonymiser: "Flat 3, 12 Oak Road, Leeds LS6 2AB" → "Leeds".
    """
    kept = []
    for part in location.split(","):
        rest = _POSTCODE_PIECE.sub(" ", part)
        words = [word for word in rest.split() if any(c.isalpha() for c in word)]  # drops "()", "-"
        if words and not any(c.isdigit() for c in rest):
            kept.append(_one_line(" ".join(words)))
    return ", ".join(kept)


def _canonical_job(job: object, index: int) -> dict[str, Any]:
    where = f"employment_history[{index}]"
    if not isinstance(job, Mapping):
        raise RenderError("invalid_context", f"{where} must be a mapping, got {type(job).__name__}.")
    unknown = sorted(str(key) for key in job if key not in JOB_FIELDS)
    if unknown:
        raise RenderError("invalid_context", f"Unknown field(s) in {where}: {', '.join(unknown)}.")
    return {
        "company": _one_line(_text(job.get("company"), f"{where}.company")),
        "role": _one_line(_text(job.get("role"), f"{where}.role")),
        "date_range": _one_line(_text(job.get("date_range"), f"{where}.date_range")),
        "responsibilities": _clean_lines(job.get("responsibilities"), f"{where}.responsibilities"),
    }


def _job(entry: object, index: int) -> dict[str, Any]:
    """One ``data_extracted`` employment entry reduced to the rendered fields."""
    where = f"employment_history[{index}]"
    if not isinstance(entry, Mapping):
        raise RenderError("invalid_context", f"{where} must be a mapping, got {type(entry).__name__}.")
    return {
        "company": _text(entry.get("company"), f"{where}.company"),
        "role": _text(entry.get("role"), f"{where}.role"),
        "date_range": _text(entry.get("date_range"), f"{where}.date_range"),
        "responsibilities": _list(entry.get("responsibilities"), f"{where}.responsibilities")[:MAX_BULLETS],
    }


def _text(value: object, where: str) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):  # a bare year such as 2019
        return str(value)
    raise RenderError("invalid_context", f"{where} must be text, got {type(value).__name__}.")


def _strict_list(value: object, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise RenderError("invalid_context", f"{where} must be a list, got {type(value).__name__}.")
    return list(value)


def _list(value: object, where: str) -> list[Any]:
    """Lenient list for stored CV content: a single string counts as a one-item list."""
    return [value] if isinstance(value, str) else _strict_list(value, where)


def _clean_lines(value: object, where: str) -> list[str]:
    items = (_one_line(_text(item, f"{where}[{i}]")) for i, item in enumerate(_strict_list(value, where)))
    return [item for item in items if item]


def _role_list(value: object, where: str) -> list[str]:
    """Trimmed roles, de-duplicated case-insensitively in order, capped at the schema's ten."""
    seen: set[str] = set()
    roles = []
    for role in _clean_lines(_list(value, where), where):
        if role.casefold() not in seen:
            seen.add(role.casefold())
            roles.append(role)
    return roles[:MAX_ROLES]


def _interests(value: object) -> str:
    if isinstance(value, list | tuple):
        return ", ".join(_clean_lines(value, "interests"))
    return _text(value, "interests")


def _first_filled(*values: str) -> str:
    return next((value for value in values if value.strip()), "")


def _one_line(value: str) -> str:
    # NFC: a name typed with combining accents hashes (and renders) like its precomposed form.
    return " ".join(unicodedata.normalize("NFC", _UNPRINTABLE.sub(" ", value)).split())


def _paragraphs(value: str) -> str:
    """Paragraphs split on blank lines; a single line break is a wrap from extraction and becomes a space."""
    text = _UNPRINTABLE.sub(" ", value.replace("\r\n", "\n").replace("\r", "\n"))
    return "\n\n".join(para for chunk in _PARAGRAPH_BREAK.split(text) if (para := _one_line(chunk)))
