"""Telephone numbers from the schools list (imports-and-geo.md §2): repair, validate, format as GB national.

Excel stores phone numbers as numbers, so the leading zero is gone (2072831147) and long ones may have been
turned into scientific notation text (2.00203E+12), whose digits are lost for good.
"""

import re
from typing import NamedTuple

import phonenumbers

MAX_LENGTH = 30
_SCIENTIFIC = re.compile(r"[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+")
_NON_DIGITS = re.compile(r"\D")


class Telephone(NamedTuple):
    value: str | None  # what to store
    problem: str | None  # None, "telephone_precision_lost" or "telephone_unusual"


def normalise_telephone(text: str | None) -> Telephone:
    """Valid GB numbers in national format ("020 7283 1147"); anything else kept as digits and flagged."""
    text = (text or "").strip()
    if not text:
        return Telephone(None, None)
    if _SCIENTIFIC.fullmatch(text):
        return Telephone(None, "telephone_precision_lost")
    digits = _NON_DIGITS.sub("", text)
    if not digits:
        return Telephone(None, "telephone_unusual")
    number = _national_digits(digits, international=text.startswith("+"))
    if number.startswith("0"):
        formatted = _gb_national_format(number)
        if formatted:
            return Telephone(formatted, None)
    usable = len(number) <= MAX_LENGTH and number.strip("+0")
    return Telephone(number if usable else None, "telephone_unusual")


def _national_digits(digits: str, international: bool) -> str:
    """GB numbers with their trunk zero ("+44 (0)20…", "0044 20…", "44 20…" and "2072831147" → "020…");
    foreign numbers as "+<digits>"."""
    if digits.startswith("00"):
        digits, international = digits[2:], True
    elif not international and digits.startswith("44") and len(digits) == 12:
        international = True
    if international:
        if not digits.startswith("44"):
            return f"+{digits}"
        digits = digits[2:]
    return digits if digits.startswith("0") else f"0{digits}"


def _gb_national_format(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, "GB")
    except phonenumbers.NumberParseException:
        return None
    # GB first: the general check also tries the Crown Dependencies that share +44, twice as slow.
    if not (phonenumbers.is_valid_number_for_region(parsed, "GB") or phonenumbers.is_valid_number(parsed)):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
