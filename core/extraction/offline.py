"""The offline provider: extracted text → validated, anonymised analysis result (pipeline.md §5–§7).

``analyse_offline`` is the single entry point the pipeline (and the AI service) calls when
``AI_PROVIDER=offline`` or as the fallback of the other providers.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from core.extraction.errors import ExtractionError
from core.extraction.experience import experience_label, total_experience, years_from_months
from core.extraction.normalise import clean_list
from core.extraction.parser import ParsedCV, ParsedEducation, parse_cv
from core.extraction.quality import MANUAL, QualityVerdict, assess_quality
from core.extraction.sanitise import CandidateFacts, sanitise_text
from core.extraction.schema import AIAnalysisResult, build_stored_result, validate_analysis
from core.extraction.writer import (
    WriterFacts,
    build_profile,
    email_body,
    email_subject,
    sanitise_cv_data,
    tighten_responsibilities,
)

PROVIDER = "offline"
INVALID_INPUT = "invalid_input"


@dataclass
class AnalysisOutcome:
    """What the offline provider produced for one CV: the validated result plus the facts the pipeline stores."""

    result: AIAnalysisResult
    experience_months: int
    quality: QualityVerdict
    warnings: list[str]
    education: list[ParsedEducation]
    parsed: ParsedCV
    has_photo: bool = False
    stated_years_experience: float | None = None

    def summary(self) -> dict[str, Any]:
        """Flat per-CV facts (the ``cvengine extract`` JSON): contacts, jobs with months, quality."""
        cv = self.parsed
        return {
            "full_name": cv.full_name,
            "given_name": cv.given_name,
            "email": cv.email,
            "phone": cv.phone,
            "location": cv.location,
            "postcode": cv.postcode,
            "job_titles": list(cv.job_titles),
            "skills": list(cv.skills),
            "qualifications": list(cv.qualifications),
            "employment_history": [
                {
                    "role": job.role,
                    "employer": job.employer,
                    "start": job.start,
                    "end": job.end,
                    "responsibilities": list(job.responsibilities),
                }
                for job in cv.jobs
            ],
            "education": [
                {"qualification": e.qualification, "institution": e.institution, "date_text": e.date_text}
                for e in self.education
            ],
            "total_years_experience": years_from_months(self.experience_months),
            "experience_months": self.experience_months,
            "has_photo": self.has_photo,
            "quality_check": self.quality.check,
            "quality_reasons": list(self.quality.reasons),
            "warnings": list(self.warnings),
        }

    def stored_result(
        self, *, job_role: list[str] | str | None = None, generated_at: datetime | None = None
    ) -> dict:
        """The ``ai_enhanced_cv_content`` dict for this outcome."""
        return build_stored_result(
            self.result,
            quality_check=self.quality.check,
            quality_reasons=self.quality.reasons,
            experience_months=self.experience_months,
            provider=PROVIDER,
            model=None,
            warnings=self.warnings,
            job_role=job_role,
            stated_years_experience=self.stated_years_experience,
            generated_at=generated_at,
        )


def unreadable_summary(code: str, message: str) -> dict[str, Any]:
    """The ``cvengine extract`` JSON for a document whose text could not be read (scanned, unsupported …)."""
    return {
        "full_name": None, "given_name": None, "email": None, "phone": None, "location": None, "postcode": None,
        "job_titles": [], "skills": [], "qualifications": [], "employment_history": [], "education": [],
        "total_years_experience": 0.0, "experience_months": 0, "has_photo": False,
        "quality_check": MANUAL, "quality_reasons": [code], "warnings": [], "error": {"code": code, "message": message},
    }  # fmt: skip


def stated_years_hint(value: Any) -> float | None:
    """Years of experience an operator stated in the batch hints ("5", 5, "5+ years"), or None."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    match = re.search(r"\d+(?:\.\d+)?", str(value or ""))
    return float(match.group(0)) if match else None


def as_list(value: Any) -> list[str]:
    """A hint given as a list or as text separated by commas, semicolons or bars."""
    if isinstance(value, str):
        return [v for v in re.split(r"\s*[,;|]\s*", value) if v]
    return [str(v) for v in value or [] if isinstance(v, str | int | float)]


def _apply_hints(cv: ParsedCV, hints: dict[str, Any]) -> None:
    """Batch ``additional_info`` fills gaps; it never replaces what the CV itself states."""
    cv.skills = clean_list([*cv.skills, *as_list(hints.get("skills"))])
    if not cv.job_titles:
        cv.job_titles = clean_list(as_list(hints.get("job_role")))
    if not cv.location and isinstance(hints.get("current_location"), str):
        cv.location = hints["current_location"].strip() or None


def _education_line(entry: ParsedEducation) -> str:
    text = " - ".join(part for part in (entry.qualification, entry.institution) if part)
    return f"{text} ({entry.date_text})" if entry.date_text and text else text


def analyse_offline(
    text: str,
    *,
    has_photo: bool,
    hints: dict | None,
    today: date,
    ocr_used: bool = False,
    is_known_town: Callable[[str], bool] | None = None,
) -> AnalysisOutcome:
    """Parse, compute experience and quality, write the anonymised texts and validate the result.

    Raises ExtractionError ``invalid_input`` when ``text`` is not a string, ``today`` not a date or ``hints`` not
    a mapping; anything else about the text (empty, garbled) gives an outcome with empty facts instead.
    """
    if not isinstance(text, str) or not isinstance(today, date) or not isinstance(hints or {}, dict):
        raise ExtractionError(
            INVALID_INPUT, "Offline analysis needs text (str), today (date) and hints (dict)."
        )
    hints = hints or {}
    cv = parse_cv(text, today=today, is_known_town=is_known_town)
    _apply_hints(cv, hints)
    experience = total_experience([job.date_text for job in cv.jobs], today)

    protected = tuple(job.employer for job in cv.jobs if job.employer) + tuple(
        e.institution for e in cv.education if e.institution
    )
    facts = CandidateFacts(
        given_name=cv.given_name,
        full_name=cv.full_name,
        surname=cv.surname,
        email=cv.email,
        phone=cv.phone,
        postcode=cv.postcode,
        town=cv.location,
        address=cv.address if cv.address and cv.address != cv.location else None,
        protected_names=protected,
    )
    qualifications = clean_list([*map(_education_line, cv.education), *cv.qualifications])
    writer = WriterFacts(
        given_name=cv.given_name,
        roles=cv.job_titles,
        jobs=[(job.role, job.employer, job.end == "present") for job in cv.jobs],
        experience_months=experience.months,
        skills=cv.skills,
        qualifications=qualifications,
        town=cv.location,
        availability=cv.availability,
        own_summary=sanitise_text(cv.profile_text, facts),
    )
    data = {
        "name": cv.given_name or "Candidate",
        "role": cv.job_titles,
        "location": cv.location or "",
        "availability": cv.availability,
        "professional_profile": build_profile(writer),
        "employment_history": [
            {
                "date_range": job.date_text,
                "role": job.role,
                "company": job.employer,
                "responsibilities": tighten_responsibilities(job.responsibilities),
            }
            for job in cv.jobs
        ],
        "qualifications": qualifications,
        "interests": cv.interests,
        "email_subject": email_subject(writer),
        "email_body": email_body(writer),
        "extracted_personal_info": {
            "full_name": cv.full_name,
            "email": cv.email,
            "whatsapp": cv.phone,
            "location": cv.address or cv.location,
            "postcode": cv.postcode,
            "skills": cv.skills,
            "total_years_experience": experience.years,
            "experience_summary": experience_label(experience.months),
        },
    }
    result, warnings = validate_analysis(data)
    result, more = validate_analysis(
        sanitise_cv_data(result, facts).model_dump()
    )  # re-check limits after sanitising

    verdict = assess_quality(
        experience_months=experience.months,
        full_name=cv.full_name,
        given_name=cv.given_name,
        email=cv.email,
        ocr_used=ocr_used,
    )
    stated = cv.stated_years if cv.stated_years is not None else stated_years_hint(hints.get("experience"))
    return AnalysisOutcome(
        result=result,
        experience_months=experience.months,
        quality=verdict,
        warnings=list(dict.fromkeys([*cv.warnings, *experience.warnings, *warnings, *more])),
        education=cv.education,
        parsed=cv,
        has_photo=has_photo,
        stated_years_experience=stated,
    )
