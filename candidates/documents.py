"""Stored files of a candidate: original upload, extracted photo, enhanced PDF (keys are content-addressed)."""

from functools import lru_cache

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from core.rendering.context import build_context, context_hash

from . import photos
from .models import Candidate


def original_key(candidate_id, sha256: str, extension: str) -> str:
    return f"candidates/original/{candidate_id}/{sha256}.{extension}"


def store_photo(candidate_id, jpeg: bytes) -> str:
    return photos.store_jpeg(f"candidates/photos/{candidate_id}", jpeg)


def delete_later(keys: list[str]) -> None:
    """Queue deletion once the surrounding transaction commits (a rollback must not lose files)."""
    keys = [key for key in keys if key]
    if keys:
        from cvengine.tasks import cleanup_files

        transaction.on_commit(lambda: cleanup_files.delay(keys))


def stored_keys(candidate: Candidate) -> list[str]:
    """Every file a candidate owns (for deletion)."""
    return [key for key in (candidate.original_file, candidate.enhanced_cv, candidate.profile_photo) if key]


# --- enhanced PDF ------------------------------------------------------------------------------------------------


def render_context(candidate: Candidate) -> dict:
    """What the enhanced PDF shows (pipeline.md §8): anonymised content, given name, roles, town only."""
    content = (candidate.ai_enhanced_cv_content or {}).get("data_extracted") or {}
    return build_context(
        content,
        given_name=candidate.name_without_surname or None,
        full_name=candidate.name or None,
        roles=candidate.job_titles or None,
        town=candidate.location or None,
    )


def context_digest(candidate: Candidate) -> str:
    return context_hash(render_context(candidate))


@lru_cache(maxsize=1)
def _branding():
    from core.rendering import Branding

    return Branding(
        agency_name=settings.AGENCY_NAME,
        logo_path=settings.CV_LOGO_PATH,
        accent_colour=settings.CV_ACCENT_COLOUR,
        contact_line=settings.AGENCY_CONTACT_LINE,
        footer_text=settings.CV_FOOTER_TEXT,
    )


def render_and_store(candidate: Candidate) -> tuple[str, str]:
    """Render the current content and store it at candidates/enhanced/<id>/<context hash>.pdf."""
    from core.rendering import render_pdf

    context = render_context(candidate)
    digest = context_hash(context)
    pdf = render_pdf(context, _branding())
    key = default_storage.save(f"candidates/enhanced/{candidate.id}/{digest}.pdf", ContentFile(pdf))
    return key, digest
