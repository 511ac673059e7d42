"""One-click unsubscribe tokens (api.md §5.4): an HMAC-signed, non-expiring encoding of the recipient address.

The token carries no database id, so it keeps working after contacts are deleted or re-imported, and it cannot be
forged without SECRET_KEY (a dedicated salt keeps it from being valid anywhere else; SECRET_KEY_FALLBACKS are
honoured, so rotating the key does not break links already in inboxes).
"""

from django.conf import settings
from django.core import signing
from django.urls import reverse

_SALT = "cvengine.outreach.unsubscribe"


def normalise_email(address: str) -> str:
    return (address or "").strip().lower()


def make_token(address: str) -> str:
    return signing.Signer(salt=_SALT).sign_object({"e": normalise_email(address)}, compress=True)


def read_token(token: str) -> str | None:
    """The address a valid token was made for; None for anything forged, truncated or malformed."""
    try:
        data = signing.Signer(salt=_SALT).unsign_object(token)
    except (signing.BadSignature, ValueError, TypeError, UnicodeDecodeError):
        return None
    address = data.get("e") if isinstance(data, dict) else None
    if not isinstance(address, str) or "@" not in address or len(address) > 254:
        return None
    return address


def unsubscribe_url(address: str) -> str:
    """Absolute link (PUBLIC_BASE_URL) used in the List-Unsubscribe header and the e-mail footer."""
    return settings.PUBLIC_BASE_URL + reverse("outreach:unsubscribe", args=[make_token(address)])


def list_unsubscribe_headers(address: str) -> dict[str, str]:
    """RFC 2369 + RFC 8058 one-click headers for one recipient."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(address)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def mask_email(address: str) -> str:
    """``j***@school.org.uk``: enough for the owner to recognise, nothing for anyone else."""
    local, _, domain = normalise_email(address).partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
