"""Optional online fallback: Nominatim via geopy (spec imports-and-geo §6 step 5). Off unless enabled.

The Nominatim usage policy allows at most one request per second from all our processes together, so every
request first passes a shared ``RateLimiter`` (the Django side supplies a Redis lock; ``FileRateLimiter`` serves
one machine). Results and misses go through caller-supplied cache callables so repeated texts never hit the
service twice. Never call this inside an HTTP request: it can wait on the limiter and on the network.
"""

import fcntl
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from geopy.exc import GeocoderQueryError, GeopyError
from geopy.geocoders import Nominatim

from core.geo.errors import OnlineGeocoderError
from core.geo.gazetteer import normalise_location
from core.geo.result import GeoResult

logger = logging.getLogger(__name__)

DEFAULT_DOMAIN = "nominatim.openstreetmap.org"
MIN_INTERVAL_SECONDS = 1.0


class RateLimiter(Protocol):
    def wait(self) -> None:
        """Block until this caller may send one request."""


class FileRateLimiter:
    """At most one request per ``interval`` seconds across every process sharing ``path`` (an fcntl lock).

    The lock file holds the time of the last request; the holder sleeps out the rest of the interval while
    keeping the lock, so waiting callers are served one by one.
    """

    def __init__(
        self,
        path: str | Path,
        interval: float = MIN_INTERVAL_SECONDS,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.path = Path(path)
        self.interval = interval
        self._clock, self._sleep = clock, sleep

    def wait(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path, "a+b") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                handle.seek(0)
                try:
                    last = float(handle.read().decode() or 0.0)
                except ValueError:
                    last = 0.0  # unreadable stamp: nothing to wait for
                # min() bounds the wait if the clock went backwards since the stamp was written
                delay = min(last + self.interval - self._clock(), self.interval)
                if delay > 0:
                    self._sleep(delay)
                handle.seek(0)
                handle.truncate()
                handle.write(repr(self._clock()).encode())
                handle.flush()
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


@dataclass(frozen=True)
class CachedLookup:
    """A cached answer: ``result`` None records a miss (the caller decides how long misses are kept)."""

    result: GeoResult | None


CacheGet = Callable[[str], CachedLookup | None]
CacheSet = Callable[[str, GeoResult | None], None]


@dataclass(frozen=True)
class NominatimSettings:
    enabled: bool = False
    user_agent: str = ""  # required when enabled: the usage policy bans anonymous or library-default agents
    domain: str = DEFAULT_DOMAIN  # host[:port][/path] of a public or self-hosted server
    scheme: str = "https"
    timeout_seconds: float = 10.0
    country_codes: str = "gb"

    def validate(self) -> None:
        problems = []
        if not self.user_agent.strip() or self.user_agent.lower().startswith("geopy"):
            problems.append("a user agent naming this application is required")
        if self.scheme not in ("http", "https"):
            problems.append("the scheme must be http or https")
        if not self.domain.strip() or "://" in self.domain:
            problems.append("the domain must be a host name (optionally with port and path), without scheme")
        if not (math.isfinite(self.timeout_seconds) and self.timeout_seconds > 0):
            problems.append("the timeout must be a positive number of seconds")
        if problems:
            raise OnlineGeocoderError(
                "Nominatim is misconfigured: " + "; ".join(problems) + ".",
                code="online_geocoder_misconfigured",
            )


def cache_key(text: str) -> str:
    """The key results are cached under: the normalised location text."""
    return normalise_location(text)


class NominatimGeocoder:
    """Geocodes a location text online; thread-safe (the limiter serialises requests)."""

    def __init__(
        self,
        settings: NominatimSettings,
        *,
        rate_limiter: RateLimiter,
        cache_get: CacheGet | None = None,
        cache_set: CacheSet | None = None,
    ):
        self.settings = settings
        self._rate_limiter = rate_limiter
        self._cache_get, self._cache_set = cache_get, cache_set
        self._client: Nominatim | None = None
        if settings.enabled:
            settings.validate()
            self._client = Nominatim(
                user_agent=settings.user_agent,
                domain=settings.domain,
                scheme=settings.scheme,
                timeout=settings.timeout_seconds,
            )

    def geocode(self, text: str) -> GeoResult | None:
        """Result with precision "online", or None when the service knows no such place in the UK.

        Raises OnlineGeocoderError when disabled (``online_geocoding_disabled``), when the service is unreachable
        or failing (``online_geocoder_unavailable``: retry later) or rejects the query.
        """
        if self._client is None:
            raise OnlineGeocoderError("Online geocoding is not enabled.", code="online_geocoding_disabled")
        query = cache_key(text)
        if not query:
            return None
        if self._cache_get is not None and (cached := self._cache_get(query)) is not None:
            return cached.result
        result = self._ask(query)
        if self._cache_set is not None:
            self._cache_set(query, result)
        return result

    def _ask(self, query: str) -> GeoResult | None:
        self._rate_limiter.wait()
        try:
            location = self._client.geocode(
                query,
                exactly_one=True,
                country_codes=self.settings.country_codes,
                timeout=self.settings.timeout_seconds,
            )
        except GeocoderQueryError as error:
            raise OnlineGeocoderError(
                f"Nominatim rejected the query: {error}.", code="online_geocoder_rejected"
            )
        except GeopyError as error:
            logger.warning("Nominatim request failed: %s", type(error).__name__)
            raise OnlineGeocoderError(f"Nominatim did not answer: {type(error).__name__}.")
        if location is None:
            return None
        lat, lng = location.latitude, location.longitude
        if not (
            isinstance(lat, float) and isinstance(lng, float) and -90 <= lat <= 90 and -180 <= lng <= 180
        ):
            raise OnlineGeocoderError("Nominatim answered without valid coordinates.")
        return GeoResult(lat, lng, "online", location.address or query)
