"""Problem records of an import (imports-and-geo.md §1): `{row, code, severity, reason, field, value}`."""

from dataclasses import asdict, dataclass
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class Problem:
    row: int  # spreadsheet row number (the header row for column problems)
    code: str
    severity: Severity
    reason: str
    field: str | None = None
    value: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def error(row: int, code: str, reason: str, field: str | None = None, value: str | None = None) -> Problem:
    return Problem(row, code, "error", reason, field, value)


def warning(row: int, code: str, reason: str, field: str | None = None, value: str | None = None) -> Problem:
    return Problem(row, code, "warning", reason, field, value)


def unknown_column_problems(header_row: int, ignored_headers: list[str]) -> list[Problem]:
    """One `unknown_column` warning per header that feeds no field (reported once, not per row)."""
    return [
        warning(
            header_row,
            "unknown_column",
            f"Column '{header}' is not recognised and was ignored.",
            value=header,
        )
        for header in ignored_headers
    ]


def too_long(row: int, field: str, value: str, limit: int) -> Problem:
    return error(row, "value_too_long", f"{field} is longer than {limit} characters.", field, value)


def uncalculated_formula(row: int, field: str, severity: Severity) -> Problem:
    return Problem(
        row,
        "formula_without_value",
        severity,
        f"The {field} cell holds a formula that was never calculated; open and save the file in Excel "
        "(or paste values) before importing.",
        field,
    )
