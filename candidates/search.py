"""The candidate ``search_text`` column: one lower-cased line per searchable value (reference-defects P8).

``search_text`` is trigram-indexed on PostgreSQL (migration 0002, ``UPPER(search_text) gin_trgm_ops``), so the
list filter ``search_text__icontains`` stays indexed at scale. Every code path that writes one of
``SEARCH_FIELDS`` must refresh it in the same write:

    from candidates.search import refresh_search_text
    refresh_search_text(candidate)          # after setting the fields on the instance
    candidate.save(update_fields=[..., "search_text"])

or, for a conditional ``UPDATE``: ``fields["search_text"] = build_search_text(candidate)`` after applying the
new values to the instance.
"""

import re
from collections.abc import Iterable

# Model fields whose values end up in search_text; a write to any of them must refresh it.
SEARCH_FIELDS = (
    "name",
    "name_without_surname",
    "email",
    "whatsapp_number",
    "location",
    "skills",
    "job_titles",
)

_WHITESPACE = re.compile(r"\s+")
_NOT_DIGIT = re.compile(r"\D")
SEPARATOR = "\n"  # values are kept apart, so a query never matches across two fields


def normalise_query(text: str) -> str:
    """How a search term is compared with search_text: trimmed, inner whitespace collapsed, lower-cased."""
    return _WHITESPACE.sub(" ", text).strip().lower()


def _values(candidate) -> Iterable[str]:
    for field in ("name", "name_without_surname", "email", "whatsapp_number", "location"):
        value = getattr(candidate, field, None)
        if value:
            yield str(value)
    phone = getattr(candidate, "whatsapp_number", None) or ""
    digits = _NOT_DIGIT.sub("", phone)
    if digits and digits != phone:
        yield digits  # "07700 900123" also finds "+44 7700 900123"-style numbers by their digits
    for field in ("skills", "job_titles"):
        items = getattr(candidate, field, None)
        if isinstance(items, list):
            yield from (str(item) for item in items if item not in (None, ""))


def build_search_text(candidate) -> str:
    """The search_text value for the candidate's current attribute values (no database access)."""
    seen, lines = set(), []
    for value in _values(candidate):
        line = normalise_query(value)
        if line and line not in seen:
            seen.add(line)
            lines.append(line)
    return SEPARATOR.join(lines)


def refresh_search_text(candidate) -> bool:
    """Recompute ``candidate.search_text`` in place (not saved). True when it changed."""
    text = build_search_text(candidate)
    if text == candidate.search_text:
        return False
    candidate.search_text = text
    return True


def rebuild_all(batch_size: int = 500) -> int:
    """Recompute search_text for every candidate (after a change of the rules); returns rows changed."""
    from .models import Candidate

    changed, pending = 0, []
    queryset = Candidate.objects.only("id", "search_text", *SEARCH_FIELDS).order_by("pk")
    for candidate in queryset.iterator(chunk_size=batch_size):
        if refresh_search_text(candidate):
            pending.append(candidate)
        if len(pending) >= batch_size:
            changed += Candidate.objects.bulk_update(pending, ["search_text"])
            pending = []
    if pending:
        changed += Candidate.objects.bulk_update(pending, ["search_text"])
    return changed
