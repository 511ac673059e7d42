"""CSRF rule for cookie-authenticated unsafe requests (api.md §1.4).

SameSite alone is not enough (S8): a sibling subdomain is "same-site", and older browsers ignore the attribute.
Instead of a token the rule checks where the request comes from, which every current browser reports on unsafe
requests (``Sec-Fetch-Site``, ``Origin`` or ``Referer``). Requests with an ``Authorization`` header are never
checked: a browser cannot add that header cross-origin without CORS approval.
"""

from urllib.parse import urlsplit

from django.conf import settings
from rest_framework import status

from cvengine.api import APIError

from .authentication import ACCESS_COOKIE, REFRESH_COOKIE

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class CSRFFailed(APIError):
    def __init__(self):
        super().__init__("CSRF check failed.", "csrf_failed", status_code=status.HTTP_403_FORBIDDEN)


def normalise_origin(value: str) -> str | None:
    """``scheme://host[:port]`` lower-cased with the default port dropped; None if not an http(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "")
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _trusted(origin: str | None, request) -> bool:
    if not origin:
        return False
    own = normalise_origin(f"{request.scheme}://{request.get_host()}")
    exact = {own, normalise_origin(settings.PUBLIC_BASE_URL)}
    wildcards = []
    for entry in (*settings.CSRF_TRUSTED_ORIGINS, *settings.CORS_ALLOWED_ORIGINS):
        if "://*." in entry:  # Django's subdomain form, e.g. https://*.example.org
            scheme, _, domain = entry.partition("://*.")
            wildcards.append((scheme.lower(), "." + domain.lower().rstrip("/")))
        else:
            exact.add(normalise_origin(entry))
    exact.discard(None)
    if origin in exact:
        return True
    scheme, _, rest = origin.partition("://")
    return any(scheme == w_scheme and rest.endswith(w_domain) for w_scheme, w_domain in wildcards)


def origin_allowed(request) -> bool:
    """The four steps of §1.4, in order."""
    meta = request.META
    fetch_site = meta.get("HTTP_SEC_FETCH_SITE")
    origin = meta.get("HTTP_ORIGIN")
    if fetch_site is not None:
        if fetch_site.strip().lower() in ("same-origin", "none"):
            return True
        return origin is not None and _trusted(normalise_origin(origin), request)
    if origin is not None:
        return origin.strip().lower() != "null" and _trusted(normalise_origin(origin), request)
    referer = meta.get("HTTP_REFERER")
    if referer is not None:
        return _trusted(normalise_origin(referer), request)
    return not settings.CSRF_REQUIRE_ORIGIN


def needs_check(request) -> bool:
    """Unsafe method, no Authorization header, and an auth cookie that a browser would attach."""
    if request.method not in UNSAFE_METHODS or "HTTP_AUTHORIZATION" in request.META:
        return False
    return ACCESS_COOKIE in request.COOKIES or REFRESH_COOKIE in request.COOKIES


def enforce(request, *, always: bool = False) -> None:
    """Raise 403 ``csrf_failed`` if the rule applies and the request's origin is not trusted.

    ``always`` is for login: it is checked even without cookies (login CSRF plants the attacker's session).
    """
    if always:
        if request.method not in UNSAFE_METHODS:
            return
    elif not needs_check(request):
        return
    if not origin_allowed(request):
        raise CSRFFailed()
