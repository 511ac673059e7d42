"""UK postcode syntax: normalise, validate, split and find postcodes in free text.

Format (spec imports-and-geo §6): outward code ``[A-Z]{1,2}[0-9][A-Z0-9]?`` then inward code ``[0-9][A-Z]{2}``,
plus the special ``GIR 0AA``. Canonical form: upper case with one space before the inward code (``SE3 9GJ``).
"""

import re
from typing import Literal, NamedTuple

from core.geo.errors import InvalidPostcode

_OUTWARD = r"[A-Z]{1,2}[0-9][A-Z0-9]?"
_INWARD = r"[0-9][A-Z]{2}"

# Search pattern for upper-cased text with whitespace runs collapsed to one space.
POSTCODE_PATTERN = re.compile(rf"\b(?:({_OUTWARD}) ?({_INWARD})|(GIR) ?(0AA))\b")
# A postcode written without its space ("EC3A5DE"), the form the gazetteer stores.
COMPACT_POSTCODE_PATTERN = re.compile(rf"(?:({_OUTWARD})({_INWARD})|(GIR)(0AA))")
_SECTOR = re.compile(rf"{_OUTWARD} [0-9]")
OUTWARD_PATTERN = re.compile(_OUTWARD)
_WHITESPACE = re.compile(r"\s+")


class PostcodeParts(NamedTuple):
    outward: str  # "EC3A"
    sector: str  # "EC3A 5"
    unit: str  # "EC3A 5DE"


def _join(match: re.Match) -> str:
    outward, inward = (match.group(1), match.group(2)) if match.group(1) else (match.group(3), match.group(4))
    return f"{outward} {inward}"


def normalise_postcode(text: str) -> str:
    """Canonical form of a full postcode (``se39gj`` → ``SE3 9GJ``); raises InvalidPostcode otherwise."""
    if not isinstance(text, str):
        raise InvalidPostcode("A postcode must be text.")
    match = COMPACT_POSTCODE_PATTERN.fullmatch(_WHITESPACE.sub("", text).upper())
    if match is None:
        raise InvalidPostcode("Not a well-formed UK postcode (expected e.g. 'SW1A 1AA').")
    return _join(match)


def is_valid_postcode(text: str) -> bool:
    try:
        normalise_postcode(text)
    except InvalidPostcode:
        return False
    return True


def split_postcode(text: str) -> PostcodeParts:
    """Outward code, sector and unit of a full postcode (normalised first)."""
    return canonical_parts(normalise_postcode(text))


def canonical_parts(unit: str) -> PostcodeParts:
    """Parts of a postcode already in canonical form (as find_postcodes returns them), without re-validating."""
    outward, inward = unit.split(" ")
    return PostcodeParts(outward=outward, sector=f"{outward} {inward[0]}", unit=unit)


def find_postcodes(text: str) -> list[str]:
    """Every full postcode in a free text, in order of appearance, in canonical form."""
    collapsed = _WHITESPACE.sub(" ", text.upper())
    return [_join(match) for match in POSTCODE_PATTERN.finditer(collapsed)]


def find_postcode(text: str) -> str | None:
    """The first full postcode in a free text, or None."""
    found = find_postcodes(text)
    return found[0] if found else None


def parse_partial_postcode(text: str) -> tuple[Literal["sector", "outward"], str] | None:
    """Recognise a text that is only a sector (``EC3A 5``) or only an outward code (``EC3A``, ``M1``).

    A sector needs its space: without it ``M11`` is ambiguous (outward M11 or sector M1 1) and is read as outward.
    """
    candidate = _WHITESPACE.sub(" ", text.strip().upper())
    if _SECTOR.fullmatch(candidate):
        return "sector", candidate
    if OUTWARD_PATTERN.fullmatch(candidate):
        return "outward", candidate
    return None
