"""Cell and header normalisation shared by every spreadsheet format (standard library only).

This module is also imported by the isolated reader subprocess, so it must stay free of third-party imports.
"""

import datetime as dt
import math
import re

_HEADER_NOISE = re.compile(r"[\s_\-.()]+")
_INTEGRAL_DECIMAL = re.compile(r"\s*([+-]?\d+)\.0+\s*")


def normalise_cell(value: object) -> str | None:
    """Return the cell as clean text: integral floats as integers, blanks as None, whitespace collapsed."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        # 15 significant digits is what Excel itself displays; repr() would show binary noise.
        return format(value, ".15g")
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    text = " ".join(str(value).split())
    return text or None


def normalise_text_cell(text: str) -> str | None:
    """A cell of a text format (CSV): like normalise_cell, and "100154.0" (a float column written out by some
    tool) becomes "100154" as the same number in a workbook would."""
    integral = _INTEGRAL_DECIMAL.fullmatch(text)
    return integral.group(1) if integral else normalise_cell(text)


def header_key(text: str | None) -> str:
    """Comparable form of a header: lower-case without spaces, `_ - . ( )` (so `LA (name)` == `laname`)."""
    return _HEADER_NOISE.sub("", text or "").casefold()


def column_letter(index: int) -> str:
    """Spreadsheet column name for a 0-based index (0 → A, 26 → AA)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """0-based index of a spreadsheet column name (A → 0, AA → 26)."""
    index = 0
    for char in letters.upper():
        index = index * 26 + ord(char) - 64
    return index - 1
