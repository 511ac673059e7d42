"""Where things are: organisation addresses, search centres and candidates (imports-and-geo.md §6).

Inside HTTP requests only offline data is used — the gazetteer and answers the online geocoder gave earlier
(``geo_cache``). When neither knows a place, the request answers 422 and, if online geocoding is enabled, a
background task asks Nominatim (reference-defects P2); the next request then finds the cached answer.
"""

import hashlib
import logging
from dataclasses import dataclass

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from core.geo.errors import InvalidPostcode
from core.geo.nominatim import cache_key
from core.geo.postcodes import normalise_postcode
from core.geo.result import GeoResult
from cvengine.api import APIError

from . import online
from .geocoding import geocode

logger = logging.getLogger(__name__)

_PENDING_SECONDS = 600  # one background lookup per text per 10 minutes, however often it is requested

LOCATION_MISSING = "Candidate has no location or postcode."


@dataclass(frozen=True)
class Centre:
    latitude: float
    longitude: float
    precision: str


def valid_postcode(postcode: str | None) -> str | None:
    """The canonical postcode, or None when blank or malformed (malformed ones are never geocoded)."""
    if not postcode:
        return None
    try:
        return normalise_postcode(postcode)
    except InvalidPostcode:
        return None


def address_texts(postcode: str | None, town: str | None, county: str | None) -> list[str]:
    """What to look up for an organisation, best first: its postcode, else its town (with the county)."""
    texts = []
    if code := valid_postcode(postcode):
        texts.append(code)
    if town and town.strip():
        texts.append(", ".join(part.strip() for part in (town, county) if part and part.strip()))
    return texts


def locate_offline(texts: list[str]) -> GeoResult | None:
    """First gazetteer hit, then the first cached online hit; no network."""
    for text in texts:
        if result := geocode(text):
            return result
    for text in texts:
        cached = online.cached_lookup(text)
        if cached is not None and cached.result is not None:
            return cached.result
    return None


def locate_address(postcode: str | None, town: str | None, county: str | None) -> GeoResult | None:
    return locate_offline(address_texts(postcode, town, county))


def request_online_lookup(kind: str, key: str, texts: list[str]) -> bool:
    """Enqueue a background online lookup (once per key per 10 minutes) when online geocoding is on.

    Texts the online geocoder already answered with a miss are not asked again. Returns True when enqueued.
    """
    if not online.online_enabled() or not texts:
        return False
    if all((cached := online.cached_lookup(text)) is not None and cached.result is None for text in texts):
        return False
    digest = hashlib.sha256(f"{kind}:{key}".encode()).hexdigest()
    if not cache.add(f"geo:online-pending:{digest}", 1, timeout=_PENDING_SECONDS):
        return False
    from . import tasks

    if kind == "candidate":
        transaction.on_commit(lambda: tasks.geocode_candidate_online.delay(key))
    elif kind == "organization":
        transaction.on_commit(lambda: tasks.geocode_organizations_online.delay([key]))
    else:
        transaction.on_commit(lambda: tasks.geocode_text_online.delay(texts[0]))
    return True


def not_geocodable(text: str) -> APIError:
    return APIError(
        f"Could not determine coordinates for '{text}'. Set a UK postcode or a UK town.",
        "location_not_geocodable",
        status.HTTP_422_UNPROCESSABLE_ENTITY,
    )


def resolve_near(text: str) -> Centre:
    """O1 ``near``: a postcode or a town, offline; 422 (and a background online lookup) when unknown."""
    result = locate_offline([text])
    if result is None:
        try:
            key = cache_key(text)
        except Exception:  # an over-long or odd text cannot be a place; no lookup for it
            key = ""
        if key:
            request_online_lookup("text", key, [text])
        raise not_geocodable(text)
    return Centre(result.latitude, result.longitude, result.precision)


# --- candidates -------------------------------------------------------------------------------------------------


def candidate_texts(candidate) -> list[str]:
    return [text.strip() for text in (candidate.postcode, candidate.location) if text and text.strip()]


def store_candidate_result(candidate, result: GeoResult) -> None:
    """Save coordinates on the candidate (the candidates app's geo fields) and on the object."""
    from candidates.models import Candidate

    fields = {
        "latitude": round(result.latitude, 6),
        "longitude": round(result.longitude, 6),
        "geo_precision": result.precision,
        "geo_matched": (result.matched or "")[:255],
        "geocoded_at": timezone.now(),
    }
    Candidate.objects.filter(pk=candidate.pk).update(**fields)
    for name, value in fields.items():
        setattr(candidate, name, value)


def candidate_centre(candidate) -> Centre:
    """The candidate's coordinates; computed on demand (offline) and stored when absent.

    422 ``location_missing`` when the candidate has neither postcode nor location; 422
    ``location_not_geocodable`` when no offline source (nor an earlier online answer) knows the place.
    """
    if candidate.latitude is not None and candidate.longitude is not None:
        return Centre(float(candidate.latitude), float(candidate.longitude), candidate.geo_precision or "")
    texts = candidate_texts(candidate)
    if not texts:
        raise APIError(LOCATION_MISSING, "location_missing", status.HTTP_422_UNPROCESSABLE_ENTITY)
    from candidates.geo import locate_candidate

    locate_candidate(candidate, save=True)  # the gazetteer: postcode first, else location
    if candidate.latitude is not None and candidate.longitude is not None:
        return Centre(float(candidate.latitude), float(candidate.longitude), candidate.geo_precision)
    for text in texts:  # an answer the online geocoder gave a background task earlier
        cached = online.cached_lookup(text)
        if cached is not None and cached.result is not None:
            store_candidate_result(candidate, cached.result)
            return Centre(cached.result.latitude, cached.result.longitude, cached.result.precision)
    request_online_lookup("candidate", str(candidate.pk), texts)
    raise not_geocodable((candidate.location or candidate.postcode or "").strip())
