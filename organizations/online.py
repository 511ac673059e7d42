"""The Django side of the optional online geocoder (core/geo/nominatim.py; imports-and-geo.md §6 step 5).

- Off unless ``GEO_ONLINE_ENABLED``; never called inside an HTTP request: requests read only the cache
  (:func:`cached_lookup`) and enqueue ``organizations.geocode_online`` when it has no answer.
- At most one request per second across every worker: a lock in the shared cache (Redis) taken with an atomic
  ``add`` that expires after the interval; with a per-process cache (embedded mode) a lock file under
  ``CVENGINE_HOME`` (``FileRateLimiter``) serves the processes of the one machine.
- Hits and misses are stored in ``geo_cache`` (:class:`GeoCache`) for GEO_CACHE_TTL_DAYS / GEO_CACHE_MISS_TTL_DAYS.
"""

import logging
import math
import time
from datetime import timedelta
from itertools import batched

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.geo.errors import InvalidLocation
from core.geo.nominatim import (
    MIN_INTERVAL_SECONDS,
    CachedLookup,
    FileRateLimiter,
    NominatimGeocoder,
    NominatimSettings,
    cache_key,
)
from core.geo.result import GeoResult
from cvengine.celery import TransientError

from .models import GeoCache

logger = logging.getLogger(__name__)

LOCK_KEY = "geo:nominatim:slot"
MAX_WAIT_SECONDS = 120.0  # a worker waiting longer for its turn gives the slot up and retries later
_POLL_SECONDS = 0.05


class CacheRateLimiter:
    """≤ 1 request per ``interval`` across processes: whoever adds the expiring key first may send.

    ``cache.add`` is atomic (SET NX on Redis); the key expires after the interval, so the next caller gets the
    slot no sooner than ``interval`` seconds later. Timeouts are whole seconds, so the interval is rounded up.
    """

    def __init__(self, interval: float = MIN_INTERVAL_SECONDS, max_wait: float = MAX_WAIT_SECONDS):
        self.timeout = max(1, math.ceil(interval))
        self.max_wait = max_wait

    def wait(self) -> None:
        deadline = time.monotonic() + self.max_wait
        while not cache.add(LOCK_KEY, time.time(), timeout=self.timeout):
            if time.monotonic() > deadline:
                raise TransientError("Waited too long for the online geocoder rate limit.", retry_after=5)
            time.sleep(_POLL_SECONDS)


def shared_cache_is_process_local() -> bool:
    backend = settings.CACHES["default"]["BACKEND"]
    return backend.endswith(("locmem.LocMemCache", "dummy.DummyCache"))


def rate_limiter():
    if shared_cache_is_process_local():
        return FileRateLimiter(settings.CVENGINE_HOME / "nominatim.lock")
    return CacheRateLimiter()


def nominatim_settings() -> NominatimSettings:
    return NominatimSettings(
        enabled=settings.GEO_ONLINE_ENABLED,
        user_agent=settings.NOMINATIM_USER_AGENT,
        domain=settings.NOMINATIM_DOMAIN,
        scheme=settings.NOMINATIM_SCHEME,
        timeout_seconds=settings.NOMINATIM_TIMEOUT_SECONDS,
    )


def _cache_get(query: str) -> CachedLookup | None:
    row = GeoCache.objects.filter(query=query[:1000], expires_at__gt=timezone.now()).first()
    if row is None:
        return None
    if not row.found:
        return CachedLookup(None)
    return CachedLookup(GeoResult(row.latitude, row.longitude, "online", row.matched))


def _cache_set(query: str, result: GeoResult | None) -> None:
    days = settings.GEO_CACHE_TTL_DAYS if result else settings.GEO_CACHE_MISS_TTL_DAYS
    values = {
        "found": result is not None,
        "latitude": result.latitude if result else None,
        "longitude": result.longitude if result else None,
        "matched": (result.matched if result else "")[:500],
        "expires_at": timezone.now() + timedelta(days=days),
    }
    try:
        with transaction.atomic():
            GeoCache.objects.update_or_create(query=query[:1000], defaults=values)
    except IntegrityError:  # another worker stored the same answer at the same moment
        pass


def geocoder() -> NominatimGeocoder:
    """A geocoder wired to the shared limiter and the geo_cache table (raises when misconfigured)."""
    return NominatimGeocoder(
        nominatim_settings(), rate_limiter=rate_limiter(), cache_get=_cache_get, cache_set=_cache_set
    )


def online_enabled() -> bool:
    return bool(settings.GEO_ONLINE_ENABLED)


def cached_lookup(text: str | None) -> CachedLookup | None:
    """What the online geocoder answered earlier for ``text`` (a hit or a miss), without any network access.

    None when it was never asked (or the answer expired). Safe inside HTTP requests.
    """
    if not text or not text.strip():
        return None
    try:
        key = cache_key(text)
    except InvalidLocation:
        return None
    return _cache_get(key) if key else None


def cached_many(keys: set[str]) -> dict[str, GeoResult]:
    """Unexpired cached hits for many normalised keys at once (imports: one query per 500 keys)."""
    found: dict[str, GeoResult] = {}
    now = timezone.now()
    for batch in batched(sorted(key for key in keys if key), 500):
        rows = GeoCache.objects.filter(query__in=batch, expires_at__gt=now, found=True)
        for row in rows:
            found[row.query] = GeoResult(row.latitude, row.longitude, "online", row.matched)
    return found


def lookup_online(text: str) -> GeoResult | None:
    """Ask Nominatim (through the cache and the rate limiter). Workers only; raises OnlineGeocoderError."""
    return geocoder().geocode(text)
