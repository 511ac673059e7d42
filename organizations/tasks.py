"""Worker tasks of the organisations app (queue ``default``): imports, file retention, online geocoding.

Thin and idempotent: a finished import is never run again; online lookups store coordinates only while the
record still has none and its address is unchanged.
"""

from celery import shared_task

from core.geo.errors import OnlineGeocoderError
from cvengine.celery import TransientError

from . import imports, locate, online


def _import_failed(self, exc, task_id, args, kwargs, einfo):
    imports.fail_after_error(args[0], exc)


@shared_task(
    name="organizations.run_import", queue="default", retry_base=30, max_retries=3, time_limit=3600,
    on_failure=_import_failed,
)  # fmt: skip
def run_import(job_id: str) -> None:
    imports.run_job(job_id)


@shared_task(
    name="organizations.purge_import_files", queue="default", retry_base=60, max_retries=3, time_limit=600
)
def purge_import_files() -> int:
    """Daily (beat): workbooks are deleted IMPORT_FILE_RETENTION_DAYS after upload."""
    return imports.purge_import_files()


def _ask(text: str):
    """One online lookup; a service outage is retried by the task, anything else is a definite no."""
    try:
        return online.lookup_online(text)
    except OnlineGeocoderError as exc:
        if exc.code == "online_geocoder_unavailable":
            raise TransientError(exc.message, retry_after=30)
        return None


@shared_task(
    name="organizations.geocode_candidate_online",
    queue="default",
    retry_base=30,
    max_retries=3,
    time_limit=300,
)
def geocode_candidate_online(candidate_id: str) -> bool:
    """Online fallback for a candidate the offline gazetteer could not place (after a 422 on C7/C8)."""
    from candidates.models import Candidate

    if not online.online_enabled():
        return False
    candidate = Candidate.objects.filter(pk=candidate_id, latitude__isnull=True).first()
    if candidate is None:
        return False
    for text in locate.candidate_texts(candidate):
        result = _ask(text)
        if result is not None:
            unchanged = Candidate.objects.filter(
                pk=candidate.pk,
                latitude__isnull=True,
                postcode=candidate.postcode,
                location=candidate.location,
            ).exists()
            if unchanged:
                locate.store_candidate_result(candidate, result)
            return unchanged
    return False


@shared_task(
    name="organizations.geocode_organizations_online", queue="default", retry_base=30, max_retries=3,
    time_limit=1800,
)  # fmt: skip
def geocode_organizations_online(organization_ids: list[str]) -> int:
    """Online fallback for schools without coordinates (one task per batch of schools, never per school)."""
    from django.utils import timezone

    from .models import GeocodePrecision, Organization

    if not online.online_enabled():
        return 0
    placed = 0
    pending = Organization.objects.filter(pk__in=organization_ids, latitude__isnull=True).exclude(
        geocode_precision=GeocodePrecision.MANUAL
    )
    for organization in pending.only("id", "postcode", "town", "county"):
        for text in locate.address_texts(organization.postcode, organization.town, organization.county):
            result = _ask(text)
            if result is None:
                continue
            placed += Organization.objects.filter(
                pk=organization.pk,
                latitude__isnull=True,
                postcode=organization.postcode,
                town=organization.town,
                county=organization.county,
            ).update(
                latitude=round(result.latitude, 6),
                longitude=round(result.longitude, 6),
                geocode_precision=GeocodePrecision.ONLINE,
                geocoded_at=timezone.now(),
            )
            break
    return placed


@shared_task(
    name="organizations.geocode_text_online", queue="default", retry_base=30, max_retries=3, time_limit=300
)
def geocode_text_online(text: str) -> bool:
    """Warm the online cache for a search centre (O1 ``near``) the offline data did not know."""
    if not online.online_enabled():
        return False
    return _ask(text) is not None
