"""Analysis providers and the mapping of their stored result onto candidate fields (pipeline.md §5–§7).

Every provider returns the same stored-result dict (``ai_enhanced_cv_content``, pipeline.md §6), so mapping it onto
the candidate is one piece of code whatever produced it.
"""

from decimal import Decimal

from django.conf import settings

from core.extraction.experience import years_from_months
from core.extraction.normalise import normalise_email, normalise_postcode
from core.extraction.offline import analyse_offline
from core.extraction.writer import london_today
from organizations.geocoding import is_known_town

from .models import Candidate, Quality

QUALITY_BY_CHECK = {"pass": Quality.PASSED, "fail": Quality.FAILED, "manual review": Quality.MANUAL}


class AnalysisFailed(Exception):
    """A permanent analysis failure: ``invalid_ai_output``, ``ai_unavailable``, ``ai_timeout``."""

    def __init__(self, code: str, message: str):
        super().__init__(code, message)
        self.code = code
        self.message = message


def analyse(text: str, *, has_photo: bool, hints: dict, ocr_used: bool, sha256: str) -> dict:
    """Run the configured in-process provider; returns the stored result."""
    if settings.AI_PROVIDER == "llm":
        from .providers import analyse_with_llm

        return analyse_with_llm(text, has_photo=has_photo, hints=hints, ocr_used=ocr_used, sha256=sha256)
    outcome = analyse_offline(
        text,
        has_photo=has_photo,
        hints=hints,
        today=london_today(),
        ocr_used=ocr_used,
        is_known_town=is_known_town,
    )
    return outcome.stored_result(job_role=hints.get("job_role"))


def candidate_fields(candidate: Candidate, stored: dict) -> dict:
    """Candidate columns from a stored result. Empty values never erase; operator-edited fields are kept."""
    data = stored.get("data_extracted") or {}
    info = stored.get("personal_info") or {}
    months = int(stored.get("experience_months") or 0)
    quality = QUALITY_BY_CHECK.get(stored.get("quality_check"), Quality.MANUAL)
    reasons = list(stored.get("quality_reasons") or [])
    given = data.get("name") if data.get("name") not in (None, "", "Candidate") else None
    proposed = {
        "name": info.get("full_name"),
        "name_without_surname": given,
        "email": normalise_email(info.get("email")) if info.get("email") else None,
        "whatsapp_number": info.get("whatsapp"),
        "location": info.get("location"),
        "postcode": normalise_postcode(stored.get("postcode")),
        "skills": _dedupe(info.get("skill")),
        "job_titles": _dedupe(data.get("role")),
        "years_of_experience": Decimal(str(years_from_months(months))),  # 0.0 for "Fresher"
        "email_subject": data.get("email_subject"),
        "email_body": data.get("email_body"),
    }
    edited = set(candidate.edited_fields or [])
    fields = {k: v for k, v in proposed.items() if k not in edited and v not in (None, "", [])}
    email = fields.get("email")
    if email and Candidate.objects.filter(email__iexact=email).exclude(id=candidate.id).exists():
        # One address, one candidate (api.md C5): keep the profile, ask a person to look at it.
        other = (
            Candidate.objects.filter(email__iexact=email)
            .exclude(id=candidate.id)
            .values_list("id", flat=True)[0]
        )
        del fields["email"]
        fields["duplicate_of_id"] = candidate.duplicate_of_id or other
        quality, reasons = Quality.MANUAL, [*reasons, "email_in_use"]
    if "quality_status" not in edited:
        fields["quality_status"] = quality
    fields["quality_reasons"] = reasons
    fields["ai_enhanced_cv_content"] = stored
    return fields


def _dedupe(values) -> list[str]:
    seen, result = set(), []
    for value in values or []:
        text = str(value).strip()
        if text and text.lower() not in seen:
            seen.add(text.lower())
            result.append(text[:100])
    return result[:50]
