"""Rate limits (api.md §1.5): atomic counters in the Django cache, per client IP and/or per account.

Every counter is a fixed window that starts at the first hit: ``cache.add`` creates it with the window as expiry
and ``cache.incr`` counts atomically (Redis INCR in production), so concurrent workers never lose a hit. The
identifier (IP or lower-cased e-mail) is hashed into the key: no personal data in the cache key space.

Limits are read from ``settings.ACCOUNTS_THROTTLES`` (scope → (requests, seconds)) on every request.
"""

import hashlib
import ipaddress
import math
import time

from django.conf import settings
from django.core.cache import cache
from rest_framework import exceptions
from rest_framework.throttling import BaseThrottle

from cvengine.permissions import is_superuser

KEY_PREFIX = "throttle"


class RateLimited(exceptions.Throttled):
    """429 with ``retry_after`` (and any extra keys, e.g. ``remaining_requests``) plus ``Retry-After``."""

    def __init__(self, wait: int, **extra):
        super().__init__(wait=max(1, int(wait)))
        self.extra = extra


def limit(scope: str) -> tuple[int, int]:
    count, seconds = settings.ACCOUNTS_THROTTLES[scope]
    return int(count), int(seconds)


def _key(scope: str, ident: str) -> str:
    digest = hashlib.sha256(f"{scope}\0{ident}".encode()).hexdigest()[:40]
    return f"{KEY_PREFIX}:{scope}:{digest}"


def _retry_after(key: str, period: int, now: float) -> int:
    started = cache.get(f"{key}:t")
    if started is None:
        return period
    return max(1, math.ceil(started + period - now))


def hit(scope: str, ident: str) -> tuple[int, int]:
    """Count one event; returns (count in the current window, seconds until the window ends)."""
    _, period = limit(scope)
    key, now = _key(scope, ident), time.time()
    if cache.add(key, 0, timeout=period):
        cache.set(f"{key}:t", now, timeout=period)
    try:
        count = cache.incr(key)
    except ValueError:  # the window expired between add and incr: start a new one
        cache.add(key, 0, timeout=period)
        cache.set(f"{key}:t", now, timeout=period)
        count = cache.incr(key)
    return count, _retry_after(key, period, now)


def peek(scope: str, ident: str) -> tuple[int, int]:
    """(count, seconds until reset) without counting."""
    _, period = limit(scope)
    key = _key(scope, ident)
    count = cache.get(key) or 0
    return int(count), (_retry_after(key, period, time.time()) if count else 0)


def reset(scope: str, ident: str) -> None:
    key = _key(scope, ident)
    cache.delete_many([key, f"{key}:t"])


def check_not_exceeded(scope: str, ident: str) -> None:
    """Raise 429 if the counter already reached its limit (for limits that only count failures)."""
    allowed, _ = limit(scope)
    count, wait = peek(scope, ident)
    if count >= allowed:
        raise RateLimited(wait)


def cooldown(scope: str, ident: str, seconds: int) -> int:
    """Start a cooldown; returns 0 when it started now, else the seconds left of the running one (atomic)."""
    key, now = _key(scope, ident), time.time()
    if cache.add(key, now, timeout=seconds):
        return 0
    started = cache.get(key)
    if started is None:  # expired in between
        return 0 if cache.add(key, now, timeout=seconds) else seconds
    return max(1, math.ceil(started + seconds - now))


def client_ip(request) -> str:
    """The caller's IP. ``X-Forwarded-For`` is used only behind TRUSTED_PROXY_COUNT proxies, taking the entry
    the outermost trusted proxy appended (clients can prepend anything they like to the left)."""
    remote = request.META.get("REMOTE_ADDR", "") or "unknown"
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0:
        return remote
    chain = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(chain) < proxies:
        return remote
    candidate = chain[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote


class IPRateThrottle(BaseThrottle):
    """Per-IP limit for one scope of ``ACCOUNTS_THROTTLES``; counts every request that reaches it."""

    scope = ""

    def allow_request(self, request, view):
        allowed, _ = limit(self.scope)
        count, self._wait = hit(self.scope, client_ip(request))
        return count <= allowed

    def wait(self):
        return self._wait


class LoginThrottle(IPRateThrottle):
    scope = "login_ip"


class RegisterThrottle(IPRateThrottle):
    """Applies while self-registration is public; superusers creating accounts are not limited."""

    scope = "register_ip"

    def allow_request(self, request, view):
        if not settings.ALLOW_SIGNUP or is_superuser(request.user):
            return True
        return super().allow_request(request, view)


class TokenRefreshThrottle(IPRateThrottle):
    scope = "token_refresh_ip"


class ForgotPasswordThrottle(IPRateThrottle):
    scope = "forgot_password_ip"


class VerifyOTPThrottle(IPRateThrottle):
    scope = "verify_otp_ip"


class ResetPasswordThrottle(IPRateThrottle):
    scope = "reset_password_ip"


class UnsubscribeThrottle(IPRateThrottle):
    """30 / min per IP for the public unsubscribe endpoint (outreach, api.md §5.4)."""

    scope = "unsubscribe_ip"
