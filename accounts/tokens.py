"""JWT issue, rotation and revocation, and the auth cookies (api.md §1.3).

Every token carries ``tv`` = ``User.token_version``. Refresh tokens are recorded as outstanding so that they can
be blacklisted: on rotation (the unique blacklist row makes a concurrent second use of one token fail), on logout,
and all at once when the version is bumped.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken, TokenError
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.tokens import RefreshToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from .authentication import ACCESS_COOKIE, REFRESH_COOKIE, TOKEN_VERSION_CLAIM, mark_cookie_failure
from .models import User

REFRESH_COOKIE_PATH = "/api/auth"


@dataclass(frozen=True)
class TokenPair:
    access: str
    refresh: str


def issue_tokens(user: User) -> TokenPair:
    """A new refresh token (recorded as outstanding) and its access token, both carrying ``tv``."""
    refresh = RefreshToken()
    refresh[api_settings.USER_ID_CLAIM] = str(user.pk)
    refresh[TOKEN_VERSION_CLAIM] = user.token_version
    encoded = str(refresh)
    OutstandingToken.objects.create(
        user=user,
        jti=refresh[api_settings.JTI_CLAIM],
        token=encoded,
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    return TokenPair(access=str(refresh.access_token), refresh=encoded)


def _invalid(exc: TokenError) -> InvalidToken:
    return mark_cookie_failure(InvalidToken(str(exc.args[0]) if exc.args else None))


def _revoked() -> AuthenticationFailed:
    return mark_cookie_failure(AuthenticationFailed(_("User not found or inactive."), code="token_invalid"))


def _user_of(token: RefreshToken) -> User | None:
    try:
        return User.objects.filter(pk=token.get(api_settings.USER_ID_CLAIM)).first()
    except (ValueError, ValidationError):  # a signed token with a malformed id: treat as no user
        return None


def _outstanding(token: RefreshToken) -> OutstandingToken:
    """The token's outstanding row (created if it was issued elsewhere, e.g. before rotation existed)."""
    outstanding, _created = OutstandingToken.objects.get_or_create(
        jti=token[api_settings.JTI_CLAIM],
        defaults={
            "user": lambda: _user_of(token),
            "token": str(token),
            "created_at": token.current_time,
            "expires_at": datetime_from_epoch(token["exp"]),
        },
    )
    return outstanding


def validate_refresh(raw: str) -> tuple[RefreshToken, User]:
    """Signature, expiry, type and blacklist, then the user: active and with the token's version. 401 if not."""
    try:
        token = RefreshToken(raw)
    except TokenError as exc:
        raise _invalid(exc)
    user = _user_of(token)
    if user is None or not user.is_active or token.get(TOKEN_VERSION_CLAIM) != user.token_version:
        raise _revoked()
    return token, user


def rotate(raw: str) -> tuple[User, TokenPair]:
    """Blacklist the presented refresh token and issue a new pair. Reusing a rotated token → 401."""
    token, user = validate_refresh(raw)
    with transaction.atomic():
        _blacklisted, created = BlacklistedToken.objects.get_or_create(token=_outstanding(token))
        if not created:  # a concurrent refresh with the same token won the race
            raise _invalid(TokenError(_("Token is blacklisted")))
        return user, issue_tokens(user)


def blacklist(raw: str) -> User | None:
    """Blacklist one refresh token (logout). Returns its user only if the token was still a live session
    (valid, active user, current version), so a stale stolen token cannot be used to log everyone out."""
    try:
        token = RefreshToken(raw)
    except TokenError:
        return None
    BlacklistedToken.objects.get_or_create(token=_outstanding(token))
    user = _user_of(token)
    if user is None or not user.is_active or token.get(TOKEN_VERSION_CLAIM) != user.token_version:
        return None
    return user


def revoke_all(user: User) -> None:
    """Bump the token version (every access and refresh token stops working) and blacklist outstanding
    refresh tokens. Updates ``user.token_version`` in place so new tokens can be issued right away."""
    User.objects.filter(pk=user.pk).update(token_version=F("token_version") + 1)
    user.refresh_from_db(fields=["token_version"])
    pending = OutstandingToken.objects.filter(user=user, expires_at__gt=timezone.now()).exclude(
        blacklistedtoken__isnull=False
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in pending], ignore_conflicts=True
    )


def _cookie_flags() -> dict:
    return {
        "secure": settings.AUTH_COOKIE_SECURE,
        "httponly": True,
        "samesite": settings.AUTH_COOKIE_SAMESITE,
    }


def set_auth_cookies(response, pair: TokenPair) -> None:
    response.set_cookie(
        ACCESS_COOKIE, pair.access, max_age=settings.JWT_ACCESS_TTL, path="/", **_cookie_flags()
    )
    response.set_cookie(
        REFRESH_COOKIE,
        pair.refresh,
        max_age=settings.JWT_REFRESH_TTL,
        path=REFRESH_COOKIE_PATH,
        **_cookie_flags(),
    )


def delete_auth_cookies(response) -> None:
    """Expire both cookies with the attributes they were set with (browsers match name + path)."""
    for name, path in ((ACCESS_COOKIE, "/"), (REFRESH_COOKIE, REFRESH_COOKIE_PATH)):
        response.set_cookie(
            name, "", max_age=0, expires="Thu, 01 Jan 1970 00:00:00 GMT", path=path, **_cookie_flags()
        )
