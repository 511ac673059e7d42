"""Account writes: registration, sign-in and sessions, password change and reset, profile pictures.

Views validate input and call these; errors are raised as DRF exceptions (field maps) or ``APIError``.
"""

import hashlib
import hmac
import io
import logging
import secrets
import smtplib
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone
from PIL import Image, ImageOps, UnidentifiedImageError
from rest_framework import status
from rest_framework.exceptions import ValidationError

from cvengine.api import APIError
from cvengine.celery import TransientError
from cvengine.permissions import is_superuser

from . import selectors, throttles, tokens
from .models import PasswordResetOTP, PasswordResetToken, User
from .selectors import normalise_email

logger = logging.getLogger(__name__)

DUPLICATE_EMAIL = "A user with this email already exists."
INVALID_CREDENTIALS = "Invalid email or password."
INVALID_OTP = "Invalid or expired OTP."
TOO_MANY_OTP_ATTEMPTS = "Too many incorrect attempts. Please request a new OTP."
INVALID_RESET_TOKEN = "Invalid or expired reset token."  # noqa: S105  (a message)
UNSET = object()  # "field not sent", as opposed to None ("remove")


# --- profile pictures ---------------------------------------------------------------------------------------

_IMAGE_FORMATS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
_MAX_PIXELS = 40_000_000  # refuse decompression bombs before decoding


class ImageRejected(Exception):
    """The upload is not an acceptable picture; the message is shown to the user."""


@dataclass(frozen=True)
class ProcessedImage:
    content: bytes
    extension: str


def process_profile_picture(upload) -> ProcessedImage:
    """Check an upload is a JPEG/PNG/WebP by content (≤ PROFILE_PIC_MAX_BYTES) and re-encode it.

    Re-encoding from raw pixels drops every piece of metadata (EXIF with GPS, ICC, comments) and anything
    appended to the file; the picture is rotated upright first and downscaled to PROFILE_PIC_MAX_SIDE.
    """
    if upload.size > settings.PROFILE_PIC_MAX_BYTES:
        raise ImageRejected(f"Image must be at most {settings.PROFILE_PIC_MAX_BYTES // (1024 * 1024)} MB.")
    try:
        upload.seek(0)
        with Image.open(upload) as probe:
            fmt = probe.format
            if fmt not in _IMAGE_FORMATS:
                raise ImageRejected("Upload a JPEG, PNG or WebP image.")
            if probe.width * probe.height > _MAX_PIXELS:
                raise ImageRejected("Image dimensions are too large.")
            probe.verify()
        upload.seek(0)
        with Image.open(upload) as image:
            image.load()
            upright = ImageOps.exif_transpose(image)
            has_alpha = upright.mode in ("RGBA", "LA", "PA") or (
                upright.mode == "P" and "transparency" in upright.info
            )
            mode = "RGBA" if has_alpha and fmt != "JPEG" else "RGB"
            upright = upright.convert(mode)
            side = settings.PROFILE_PIC_MAX_SIDE
            upright.thumbnail((side, side), Image.Resampling.LANCZOS)
            clean = Image.frombytes(mode, upright.size, upright.tobytes())
    except ImageRejected:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError, ValueError):
        raise ImageRejected("Upload a valid JPEG, PNG or WebP image.")
    out = io.BytesIO()
    options = {"JPEG": {"quality": 85, "optimize": True}, "PNG": {"optimize": True}, "WEBP": {"quality": 85}}
    clean.save(out, format=fmt, **options[fmt])
    return ProcessedImage(content=out.getvalue(), extension=_IMAGE_FORMATS[fmt])


def _store_picture(user_id, image: ProcessedImage) -> str:
    name = f"profile-pictures/{user_id}/{uuid.uuid4().hex}.{image.extension}"
    return default_storage.save(name, ContentFile(image.content))


def _delete_later(name: str) -> None:
    """Delete a stored file once the surrounding transaction has committed (worker task, retried)."""
    from cvengine.tasks import cleanup_files

    if name:
        transaction.on_commit(lambda: cleanup_files.delay([name]))


def check_password_rules(password: str, user: User, *, field: str) -> None:
    """Django's password validators (length, common, numeric, similarity to the user's names and e-mail)."""
    try:
        password_validation.validate_password(password, user=user)
    except DjangoValidationError as exc:
        raise ValidationError({field: list(exc.messages)})


# --- registration and profile -------------------------------------------------------------------------------


def register_user(
    *,
    email: str,
    password: str,
    first_name: str,
    last_name: str,
    gender: str = "",
    country: str = "",
    picture: ProcessedImage | None = None,
    role: str | None = None,
    is_staff: bool | None = None,
    created_by: User | None = None,
) -> User:
    """Create an account. Only a superuser may choose ``role``/``is_staff`` (default: normal user with operator
    access); self-registered accounts are normal users without operator access (S1)."""
    user = User(
        id=uuid.uuid4(),
        email=normalise_email(email),
        first_name=first_name,
        last_name=last_name,
        gender=gender or "",
        country=country or "",
    )
    if created_by is not None and is_superuser(created_by):
        user.role = role or User.Role.NORMALUSER
        user.is_staff = True if is_staff is None else is_staff
    else:
        user.role, user.is_staff = User.Role.NORMALUSER, False
    user.set_password(password)
    if picture is not None:
        user.profile_pic = _store_picture(user.id, picture)
    try:
        with transaction.atomic():
            user.save(force_insert=True)
    except IntegrityError:  # lost a race on the unique e-mail
        if user.profile_pic:
            default_storage.delete(user.profile_pic)
        raise ValidationError({"email": [DUPLICATE_EMAIL]})
    logger.info("Account %s created (%s)", user.pk, "by superuser" if created_by else "self-registered")
    return user


def update_profile(user: User, changes: dict, picture=UNSET) -> User:
    """Apply profile fields; ``picture`` is a ProcessedImage (replace), None (remove) or UNSET (keep).
    A replaced or removed picture is deleted from storage after commit (B24)."""
    fields = [name for name in ("first_name", "last_name", "gender", "country") if name in changes]
    for name in fields:
        setattr(user, name, changes[name] or "")
    old_picture, new_picture = user.profile_pic, None
    if picture is not UNSET:
        new_picture = _store_picture(user.pk, picture) if picture is not None else ""
        user.profile_pic = new_picture
        fields.append("profile_pic")
    try:
        with transaction.atomic():
            user.save(update_fields=[*fields, "updated_at"])
            if new_picture is not None and old_picture and old_picture != new_picture:
                _delete_later(old_picture)
    except Exception:
        if new_picture:
            default_storage.delete(new_picture)
        raise
    return user


# --- sign-in and sessions -------------------------------------------------------------------------------------


def login(request, email: str, password: str) -> tuple[User, tokens.TokenPair]:
    """Check credentials (5 failures per account per 15 min, whether or not it exists) and start a session."""
    email = normalise_email(email)
    throttles.check_not_exceeded("login_account_failures", email)
    # ModelBackend refuses inactive accounts and hashes a dummy password for unknown ones (same timing).
    user = authenticate(getattr(request, "_request", request), email=email, password=password)
    if user is None:
        throttles.hit("login_account_failures", email)
        raise APIError(INVALID_CREDENTIALS, "invalid_credentials", status_code=status.HTTP_401_UNAUTHORIZED)
    throttles.reset("login_account_failures", email)
    user.last_login = timezone.now()
    User.objects.filter(pk=user.pk).update(last_login=user.last_login)
    return user, tokens.issue_tokens(user)


def logout(raw_refresh: str, *, all_sessions: bool = False) -> None:
    """Blacklist the refresh token; ``all_sessions`` revokes every token of its user (valid token only)."""
    user = tokens.blacklist(raw_refresh)
    if all_sessions and user is not None:
        with transaction.atomic():
            tokens.revoke_all(user)


def refresh_session(raw_refresh: str) -> tuple[User, tokens.TokenPair]:
    return tokens.rotate(raw_refresh)


def change_password(user: User, old_password: str, new_password: str) -> tokens.TokenPair:
    """Verify the current password (5 wrong per 15 min), set the new one, revoke every session and return a
    fresh pair for the caller."""
    ident = str(user.pk)
    throttles.check_not_exceeded("password_update_account_failures", ident)
    if not user.check_password(old_password):
        throttles.hit("password_update_account_failures", ident)
        raise ValidationError({"old_password": ["Current password is incorrect."]})
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        tokens.revoke_all(user)
        return tokens.issue_tokens(user)


# --- password reset ---------------------------------------------------------------------------------------------


def _digest(purpose: str, *parts: str) -> str:
    message = "\0".join((purpose, *parts)).encode()
    return hmac.new(settings.PASSWORD_RESET_OTP_PEPPER.encode(), message, hashlib.sha256).hexdigest()


def otp_hash(email: str, code: str) -> str:
    return _digest("otp", normalise_email(email), code)


def reset_token_hash(raw: str) -> str:
    return _digest("reset-token", raw)


def request_password_reset(email: str) -> int:
    """Start a reset for an e-mail; returns how many more requests this hour allows.

    Identical work whatever the address: limits count per e-mail, a code request row is always written and the
    e-mail task decides whether an active account exists. Older codes and reset tokens are invalidated.
    """
    email = normalise_email(email)
    allowed, _ = throttles.limit("forgot_password_account")
    wait = throttles.cooldown("forgot_password_cooldown", email, settings.PASSWORD_RESET_OTP_COOLDOWN)
    if wait:
        used, _ = throttles.peek("forgot_password_account", email)
        raise throttles.RateLimited(wait, remaining_requests=max(0, allowed - used))
    used, window_left = throttles.hit("forgot_password_account", email)
    if used > allowed:
        raise throttles.RateLimited(window_left, remaining_requests=0)
    with transaction.atomic():
        PasswordResetOTP.objects.filter(email=email).delete()
        PasswordResetToken.objects.filter(email=email).delete()
        otp = PasswordResetOTP.objects.create(
            email=email, expires_at=timezone.now() + timedelta(seconds=settings.PASSWORD_RESET_OTP_TTL)
        )
        transaction.on_commit(lambda: _enqueue_otp_email(otp.pk))
    return allowed - used


def _enqueue_otp_email(otp_id) -> None:
    from .tasks import send_password_reset_otp

    send_password_reset_otp.delay(str(otp_id))


def send_password_reset_otp(otp_id: str) -> bool:
    """Worker side of a reset request: for an active account, generate the code (CSPRNG), store only its
    peppered hash and e-mail it. Returns whether a mail was sent; safe to run twice (``sent_at`` guard)."""
    otp = PasswordResetOTP.objects.filter(
        pk=otp_id, sent_at__isnull=True, expires_at__gt=timezone.now()
    ).first()
    if otp is None:
        return False
    user = selectors.active_user_by_email(otp.email)
    if user is None:
        return False
    code = f"{secrets.randbelow(1_000_000):06d}"
    stored = PasswordResetOTP.objects.filter(pk=otp.pk, sent_at__isnull=True).update(
        otp_hash=otp_hash(otp.email, code)
    )
    if not stored:
        return False
    _send_otp_email(user, code)
    PasswordResetOTP.objects.filter(pk=otp.pk).update(sent_at=timezone.now())
    logger.info("Password reset code sent for account %s", user.pk)
    return True


def _send_otp_email(user: User, code: str) -> None:
    context = {
        "first_name": user.first_name,
        "code": code,
        "minutes": max(1, settings.PASSWORD_RESET_OTP_TTL // 60),
        "agency_name": settings.AGENCY_NAME,
        "contact_line": settings.AGENCY_CONTACT_LINE,
    }
    message = EmailMultiAlternatives(
        subject=f"{settings.AGENCY_NAME}: your password reset code",
        body=render_to_string("accounts/email/password_reset_otp.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[user.email],
        reply_to=settings.EMAIL_REPLY_TO or None,
    )
    message.attach_alternative(
        render_to_string("accounts/email/password_reset_otp.html", context), "text/html"
    )
    try:
        message.send()
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:  # temporary SMTP failure: retry with backoff
            raise TransientError(f"SMTP {exc.smtp_code}")
        raise
    except smtplib.SMTPServerDisconnected:
        raise TransientError("SMTP server disconnected")
    except Exception as exc:
        status_code = getattr(exc, "status_code", None)  # anymail API errors
        if status_code == 429 or (status_code or 0) >= 500:
            raise TransientError(f"e-mail provider HTTP {status_code}")
        raise


def verify_otp(email: str, code: str) -> tuple[str, int]:
    """Check a code (5 attempts per issued code, counted atomically before comparing). On success the code is
    consumed and a single-use reset token bound to the e-mail is returned with its lifetime."""
    email = normalise_email(email)
    limit_attempts = settings.PASSWORD_RESET_OTP_MAX_ATTEMPTS
    otp = selectors.current_otp(email)
    if otp is None:
        raise APIError(INVALID_OTP, "otp_invalid", attempts_remaining=0)
    counted = PasswordResetOTP.objects.filter(pk=otp.pk, attempts__lt=limit_attempts).update(
        attempts=F("attempts") + 1
    )
    if not counted:
        PasswordResetOTP.objects.filter(pk=otp.pk).delete()
        raise APIError(TOO_MANY_OTP_ATTEMPTS, "otp_locked", status_code=status.HTTP_403_FORBIDDEN)
    if not otp.otp_hash or not hmac.compare_digest(otp.otp_hash, otp_hash(email, code)):
        attempts = PasswordResetOTP.objects.filter(pk=otp.pk).values_list("attempts", flat=True).first()
        remaining = max(0, limit_attempts - (attempts if attempts is not None else limit_attempts))
        raise APIError(INVALID_OTP, "otp_invalid", attempts_remaining=remaining)
    raw = secrets.token_urlsafe(32)
    ttl = settings.PASSWORD_RESET_TOKEN_TTL
    with transaction.atomic():
        if not PasswordResetOTP.objects.filter(pk=otp.pk).delete()[0]:  # used concurrently
            raise APIError(INVALID_OTP, "otp_invalid", attempts_remaining=0)
        PasswordResetToken.objects.filter(email=email).delete()
        PasswordResetToken.objects.create(
            email=email, token_hash=reset_token_hash(raw), expires_at=timezone.now() + timedelta(seconds=ttl)
        )
    return raw, ttl


def reset_password(email: str, raw_token: str, new_password: str) -> None:
    """Set a new password with a reset token from verify-otp (S2). The token must be live and bound to this
    e-mail; the password validators run before the token is consumed, so a rejected password leaves it
    usable. Consumption is a single DELETE: two concurrent resets cannot both win."""
    email = normalise_email(email)
    invalid = APIError(INVALID_RESET_TOKEN, "reset_token_invalid")
    token = selectors.live_reset_token(email, reset_token_hash(raw_token))
    user = selectors.active_user_by_email(email) if token is not None else None
    if token is None or user is None:
        raise invalid
    check_password_rules(new_password, user, field="new_password")
    with transaction.atomic():
        if not PasswordResetToken.objects.filter(pk=token.pk, expires_at__gt=timezone.now()).delete()[0]:
            raise invalid
        user.set_password(new_password)
        user.save(update_fields=["password", "updated_at"])
        tokens.revoke_all(user)
        PasswordResetOTP.objects.filter(email=email).delete()
    logger.info("Password reset completed for account %s", user.pk)


def purge_expired_resets() -> int:
    now = timezone.now()
    otps, _ = PasswordResetOTP.objects.filter(expires_at__lte=now).delete()
    reset_tokens, _ = PasswordResetToken.objects.filter(expires_at__lte=now).delete()
    return otps + reset_tokens
