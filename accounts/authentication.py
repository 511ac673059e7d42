"""JWT authentication from the ``access_token`` HttpOnly cookie, falling back to ``Authorization: Bearer``.

Tokens carry ``tv`` (the user's token version): bumping ``User.token_version`` revokes every outstanding token.
Cookie-authenticated unsafe requests pass the CSRF rule (accounts/csrf.py) before the token is even looked at.
A rejected cookie marks the error so that the response deletes both auth cookies (cvengine.api.exception_handler).
"""

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"
TOKEN_VERSION_CLAIM = "tv"  # noqa: S105  (not a secret)


def mark_cookie_failure(exc: Exception) -> Exception:
    """Flag a 401 caused by a cookie: the error response then deletes both auth cookies (api.md §1.2)."""
    exc.clear_auth_cookies = True
    return exc


class CookieJWTAuthentication(JWTAuthentication):
    def authenticate(self, request):
        from .csrf import enforce

        enforce(request)
        raw = request.COOKIES.get(ACCESS_COOKIE)
        from_cookie = bool(raw)
        if not from_cookie:
            header = self.get_header(request)
            raw = self.get_raw_token(header) if header is not None else None
        if not raw:
            return None
        try:
            validated = self.get_validated_token(raw)
            return self.get_user(validated), validated
        except exceptions.AuthenticationFailed as exc:
            raise mark_cookie_failure(exc) if from_cookie else exc

    def authenticate_header(self, request):
        return 'Bearer realm="api"'

    def get_user(self, validated_token):
        try:
            user = super().get_user(validated_token)
        except (InvalidToken, AuthenticationFailed):
            raise AuthenticationFailed(_("User not found or inactive."), code="token_invalid")
        if validated_token.get(TOKEN_VERSION_CLAIM) != user.token_version:
            raise AuthenticationFailed(_("Token has been revoked."), code="token_invalid")
        return user


class OptionalCookieJWTAuthentication(CookieJWTAuthentication):
    """For endpoints that are public but behave differently for a signed-in superuser (register with
    ALLOW_SIGNUP): a bad or stale token makes the caller anonymous instead of a 401. CSRF still applies."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            return None
