"""The analysis result every provider produces and the stored result built from it (pipeline.md §6, api.md §6).

Limits are enforced by truncation (at a word boundary for text, by dropping the tail for lists) so a verbose
model never fails validation for length alone. Validate with :func:`validate_analysis` to also collect a
``truncated_<field>`` warning per truncated field; plain ``model_validate`` truncates silently.
"""

import copy
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationInfo

from core.extraction.experience import experience_label, years_from_months
from core.extraction.normalise import (
    clean_line,
    normalise_email,
    normalise_phone,
    strip_control,
    truncate_words,
)

SCHEMA_VERSION = 2


def _warn(info: ValidationInfo, code: str) -> None:
    if isinstance(info.context, dict) and code not in info.context.setdefault("warnings", []):
        info.context["warnings"].append(code)


def _text(limit: int, *, multiline: bool = False):
    def validate(value: Any, info: ValidationInfo) -> Any:
        if value is None or not isinstance(value, str | int | float) or isinstance(value, bool):
            return value  # let pydantic report the type error (or accept None where nullable)
        value = strip_control(str(value)).strip() if multiline else clean_line(str(value))
        value, cut = truncate_words(value, limit)
        if cut:
            _warn(info, f"truncated_{info.field_name}")
        return value

    return BeforeValidator(validate)


def _capped(limit: int):
    def validate(value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, list):
            value = [v for v in value if not (isinstance(v, str) and not v.strip())]
            if len(value) > limit:
                _warn(info, f"truncated_{info.field_name}")
                value = value[:limit]
        return value

    return BeforeValidator(validate)


def _valid_email(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str) and value.strip():
        email = normalise_email(value)
        if email is None:
            _warn(info, "invalid_email")
        return email
    return None if value in ("", None) else value


def _phone(value: Any, info: ValidationInfo) -> Any:
    if isinstance(value, str) and value.strip():
        return normalise_phone(value) or truncate_words(clean_line(value), 30)[0]
    return None if value in ("", None) else value


def Text(limit: int, multiline: bool = False) -> Any:
    return Annotated[str, _text(limit, multiline=multiline)]


def NullableText(limit: int, multiline: bool = False) -> Any:
    return Annotated[str | None, _text(limit, multiline=multiline)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class EmploymentEntry(_Model):
    date_range: Text(100)
    role: Text(255)
    company: Text(255)
    responsibilities: Annotated[list[Text(500)], _capped(15)]


class ExtractedPersonalInfo(_Model):
    full_name: NullableText(255)
    email: Annotated[str | None, BeforeValidator(_valid_email)]
    whatsapp: Annotated[str | None, BeforeValidator(_phone)]
    location: NullableText(255)
    postcode: NullableText(10)
    skills: Annotated[list[Text(100)], _capped(50)]
    total_years_experience: float | None
    experience_summary: Text(1000)


class AIAnalysisResult(_Model):
    name: Text(100)
    role: Annotated[list[Text(100)], _capped(10)]
    location: Text(255)
    availability: Text(255)
    professional_profile: Text(2000, multiline=True)
    employment_history: Annotated[list[EmploymentEntry], _capped(30)]
    qualifications: Annotated[list[Text(300)], _capped(30)]
    interests: NullableText(1000, multiline=True)
    email_subject: Text(200)
    email_body: Text(5000, multiline=True)
    extracted_personal_info: ExtractedPersonalInfo


class CVDataInput(_Model):
    """The client-facing CV content a rewrite works on (api.md §6); same limits as the analysis result."""

    name: Text(100)
    role: Annotated[list[Text(100)], _capped(10)]
    location: Text(255)
    availability: Text(255)
    professional_profile: Text(2000, multiline=True)
    employment_history: Annotated[list[EmploymentEntry], _capped(30)]
    qualifications: Annotated[list[Text(300)], _capped(30)]
    interests: NullableText(1000, multiline=True) = None
    email_subject: Text(200)
    email_body: Text(5000, multiline=True)


DATA_EXTRACTED_FIELDS = tuple(CVDataInput.model_fields)


def validate_analysis(data: dict[str, Any]) -> tuple[AIAnalysisResult, list[str]]:
    """Validate provider output; returns the model and the truncation/normalisation warnings.

    Raises pydantic.ValidationError for wrong types or missing fields (the LLM provider re-asks with them).
    """
    context: dict[str, list[str]] = {"warnings": []}
    result = AIAnalysisResult.model_validate(data, context=context)
    return result, context["warnings"]


def validate_cv_data(data: dict[str, Any]) -> tuple[CVDataInput, list[str]]:
    """Validate rewrite input/output against CVDataInput; returns the model and its warnings."""
    context: dict[str, list[str]] = {"warnings": []}
    result = CVDataInput.model_validate(data, context=context)
    return result, context["warnings"]


def strict_schema(node: Any) -> Any:
    """Make a pydantic JSON schema acceptable to OpenAI strict structured outputs."""
    if isinstance(node, dict):
        node = {k: strict_schema(v) for k, v in node.items() if k not in ("title", "default")}
        if node.get("type") == "object" and "properties" in node:
            node["required"] = list(node["properties"])
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [strict_schema(v) for v in node]
    return node


def analysis_json_schema() -> dict[str, Any]:
    """JSON schema of AIAnalysisResult for a strict ``response_format`` (all required, nullable optionals)."""
    return strict_schema(copy.deepcopy(AIAnalysisResult.model_json_schema()))


def openai_response_format() -> dict[str, Any]:
    """The ready-made ``response_format`` argument for chat-completions with ``json_schema`` mode."""
    return {
        "type": "json_schema",
        "json_schema": {"name": "cv_analysis", "strict": True, "schema": analysis_json_schema()},
    }


def build_stored_result(
    analysis: AIAnalysisResult,
    *,
    quality_check: str,
    quality_reasons: list[str],
    experience_months: int,
    provider: str,
    model: str | None,
    warnings: list[str],
    job_role: list[str] | str | None = None,
    stated_years_experience: float | None = None,
    generated_at: datetime | None = None,
) -> dict[str, Any]:
    """The ``ai_enhanced_cv_content`` dict (reference shape plus the schema-2 keys)."""
    info = analysis.extracted_personal_info
    data = analysis.model_dump(include=set(DATA_EXTRACTED_FIELDS))
    return {
        "status": "success",
        "message": "CV analysis completed.",
        "quality_check": quality_check,
        "extracted_photo_url": None,
        "data_extracted": {name: data[name] for name in DATA_EXTRACTED_FIELDS},
        "personal_info": {
            "full_name": info.full_name,
            "email": info.email,
            "whatsapp": info.whatsapp,
            "skill": list(info.skills),
            "job_role": job_role or None,
            "experience": experience_label(experience_months),
            "location": info.location,
        },
        "schema_version": SCHEMA_VERSION,
        "provider": provider,
        "model": model,
        "quality_reasons": list(quality_reasons),
        "experience_months": experience_months,
        "years_of_experience": years_from_months(experience_months),
        "stated_years_experience": stated_years_experience,
        "postcode": info.postcode,
        "warnings": list(dict.fromkeys(warnings)),
        "generated_at": (generated_at or datetime.now(UTC)).isoformat(),
    }
