"""Reads used by the accounts services and views."""

from django.utils import timezone

from .models import PasswordResetOTP, PasswordResetToken, User


def normalise_email(value: str) -> str:
    """E-mail is the login: compared trimmed and lower-cased everywhere."""
    return (value or "").strip().lower()


def user_by_email(email: str) -> User | None:
    return User.objects.filter(email=normalise_email(email)).first()


def active_user_by_email(email: str) -> User | None:
    return User.objects.filter(email=normalise_email(email), is_active=True).first()


def email_taken(email: str) -> bool:
    return User.objects.filter(email__iexact=normalise_email(email)).exists()


def current_otp(email: str) -> PasswordResetOTP | None:
    """The live (unexpired) reset code request for an e-mail; a new request replaces older ones."""
    return (
        PasswordResetOTP.objects.filter(email=normalise_email(email), expires_at__gt=timezone.now())
        .order_by("-created_at")
        .first()
    )


def live_reset_token(email: str, token_hash: str) -> PasswordResetToken | None:
    return PasswordResetToken.objects.filter(
        email=normalise_email(email), token_hash=token_hash, expires_at__gt=timezone.now()
    ).first()
