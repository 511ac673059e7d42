"""Quality verdict for an analysed CV (pipeline.md §7.3): first matching rule decides, every match is recorded."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

QualityCheck = Literal["pass", "fail", "manual review"]
PASS, FAIL, MANUAL = "pass", "fail", "manual review"
MIN_EXPERIENCE_MONTHS = 6

# Stored-result values → candidate ``quality_status`` column values.
CANDIDATE_STATUS = {PASS: "passed", FAIL: "failed", MANUAL: "manual"}

REASON_MESSAGES = {
    "no_text_layer": "scanned or image-only document",
    "text_from_ocr": "text from OCR",
    "missing_name": "no candidate name found",
    "missing_email": "no e-mail address found",
    "offline_fallback": "analysed by the offline parser after the AI provider failed",
    "insufficient_experience": "less than six months of dated experience",
}


@dataclass(frozen=True)
class QualityVerdict:
    check: QualityCheck
    reasons: list[str] = field(default_factory=list)

    @property
    def candidate_status(self) -> str:
        return CANDIDATE_STATUS[self.check]


def reason_message(code: str) -> str:
    """Human text for a reason code (grounding codes are generated per field)."""
    if code.startswith("ungrounded_"):
        return f"{code.removeprefix('ungrounded_').replace('_', ' ')} not found in the CV text"
    return REASON_MESSAGES.get(code, code.replace("_", " "))


def assess_quality(
    *,
    experience_months: int,
    full_name: str | None,
    given_name: str | None,
    email: str | None,
    no_text_layer: bool = False,
    ocr_used: bool = False,
    ungrounded_fields: Iterable[str] = (),
    offline_fallback: bool = False,
) -> QualityVerdict:
    """Apply the §7.3 table. A CV read only through OCR counts as scanned: an operator checks its details."""
    rules: list[tuple[bool, QualityCheck, list[str]]] = [
        (no_text_layer or ocr_used, MANUAL, ["no_text_layer" if no_text_layer else "text_from_ocr"]),
        (not (full_name and given_name), MANUAL, ["missing_name"]),
        (not email, MANUAL, ["missing_email"]),
    ]
    grounding = [f"ungrounded_{name}" for name in ungrounded_fields]
    if offline_fallback:
        grounding.append("offline_fallback")
    rules.append((bool(grounding), MANUAL, grounding))
    rules.append((experience_months >= MIN_EXPERIENCE_MONTHS, PASS, []))
    rules.append((experience_months < MIN_EXPERIENCE_MONTHS, FAIL, ["insufficient_experience"]))

    matched = [(check, reasons) for condition, check, reasons in rules if condition]
    reasons = [code for _, codes in matched for code in codes]
    return QualityVerdict(matched[0][0], list(dict.fromkeys(reasons)))
