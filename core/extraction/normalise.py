"""Value normalisation shared by every provider (pipeline.md §7.1).

Every function here is total: bad input gives ``None`` or an empty value, never an exception, because the
callers (parser, LLM output validation) must always be able to produce a stored result.
"""

import re
import unicodedata
from collections.abc import Iterable

import phonenumbers
from email_validator import EmailNotValidError, validate_email

# C0/C1 control characters except tab and newline; zero-width and bidi marks that hide in copy-pasted CVs.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060\ufeff]")
_SPACES = re.compile(r"[ \t\u00a0]+")
POSTCODE_RE = re.compile(r"\b([A-Z]{1,2}\d[A-Z\d]?) ?(\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE)
_FULL_POSTCODE = re.compile(r"^([A-Z]{1,2}\d[A-Z\d]?) ?(\d[ABD-HJLNP-UW-Z]{2})$")
_NAME_PART = re.compile(r"([A-Za-zÀ-ÖØ-öø-ÿĀ-ſ]+)")


def is_date_like(run: str) -> bool:
    """True for digit runs such as "01-2019 - 03-2021" that a phone pattern would otherwise take for a number."""
    groups = re.findall(r"\d+", run)
    return (
        bool(re.fullmatch(r"[\d\s/().-]+", run))
        and any(re.fullmatch(r"(19|20)\d\d", g) for g in groups)
        and all(len(g) in (1, 2, 4) for g in groups)
    )


def strip_control(text: str) -> str:
    """Remove control characters (keeping tabs and newlines)."""
    return _CONTROL.sub("", text)


def clean_line(text: str | None) -> str:
    """One-line value: control characters removed, whitespace collapsed, trimmed."""
    if not text:
        return ""
    return _SPACES.sub(" ", strip_control(text).replace("\n", " ")).strip()


def truncate_words(text: str, limit: int) -> tuple[str, bool]:
    """Cut ``text`` to at most ``limit`` characters at a word boundary; returns (text, was_truncated)."""
    if len(text) <= limit:
        return text, False
    cut = text[: limit + 1]
    space = cut.rfind(" ")
    # A single enormous word has no boundary to respect: cut it hard rather than return nothing.
    head = cut[:space] if space > limit // 2 else text[:limit]
    return head.rstrip(" ,;:-"), True


def clean_list(items: Iterable[str | None]) -> list[str]:
    """Trim items, drop blanks, de-duplicate case-insensitively keeping the first spelling and the order."""
    seen: set[str] = set()
    out: list[str] = []
    for item in items:
        value = clean_line(item)
        key = value.casefold()
        if value and key not in seen:
            seen.add(key)
            out.append(value)
    return out


def normalise_email(value: str | None) -> str | None:
    """Lower-cased, syntax-checked address (no DNS), or None when it is not a valid address."""
    value = clean_line(value).strip("<>()[].,;:").lower()
    if not value or "@" not in value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        return None


def parse_phone(value: str | None, region: str = "GB") -> phonenumbers.PhoneNumber | None:
    """A possible phone number parsed with ``region`` as the default country, or None."""
    value = clean_line(value)
    if not value or sum(ch.isdigit() for ch in value) < 7:
        return None
    # "+44 (0)7700 900123": the bracketed trunk zero is not part of an international number.
    value = re.sub(r"^(\+\d{1,3})\s*\(0\)", r"\1", value)
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        return None
    return number if phonenumbers.is_possible_number(number) else None


def normalise_phone(value: str | None, region: str = "GB") -> str | None:
    """E.164 form of a possible phone number (region GB by default; international numbers kept), or None."""
    number = parse_phone(value, region)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164) if number else None


def normalise_postcode(value: str | None) -> str | None:
    """A full UK unit postcode in the canonical ``AB1 2CD`` form, or None."""
    value = clean_line(value).upper()
    match = _FULL_POSTCODE.match(value)
    return f"{match.group(1)} {match.group(2)}" if match else None


def _title_part(part: str) -> str:
    lower = part.lower()
    if lower.startswith("mc") and len(part) > 2:
        return "Mc" + part[2:3].upper() + part[3:].lower()
    return part[:1].upper() + part[1:].lower()


def title_case_name(name: str) -> str:
    """Title-case a name word by word, keeping Mc/O'/hyphenated parts right: O'NEILL-MCDONALD → O'Neill-McDonald."""
    return _NAME_PART.sub(lambda m: _title_part(m.group(1)), name)


def normalise_name(value: str | None) -> str | None:
    """Trimmed name; all-caps (or all-lower) names are title-cased, mixed case is trusted as written."""
    value = clean_line(value).strip(" ,.;:")
    if not value:
        return None
    letters = [ch for ch in value if ch.isalpha()]
    if letters and (all(ch.isupper() for ch in letters) or all(ch.islower() for ch in letters)):
        value = title_case_name(value)
    return value


def fold(text: str) -> str:
    """Comparison key: accents removed, case folded, punctuation and whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w]+", " ", plain.casefold()).split())
