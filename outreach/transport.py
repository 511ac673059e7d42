"""The e-mail providers as the sending code sees them: availability, batching, pacing and error classification.

Two shapes (pipeline.md §11):

- **ESP batch** (anymail SendGrid): one API call for up to OUTREACH_BATCH_SIZE (≤ 1000) recipients, each getting
  its own message (``merge_data``, ``merge_headers``, ``merge_metadata``).
- **One message per contact** (SMTP, the outbox, locmem, other anymail ESPs): one connection reused for up to
  OUTREACH_MESSAGES_PER_CONNECTION (100) messages.

Provider calls of either shape are paced at EMAIL_RATE_LIMIT per second.

Errors are classified, never guessed from text: *transient* (network, timeouts, SMTP 4xx, HTTP 408/429/5xx) are
retried with backoff; everything else is *permanent* and recorded on the contact's row. A transient error that
concerns the whole provider (connection refused, HTTP 5xx) stops the pass; one that concerns one recipient (SMTP
451 for that mailbox) only sets that contact aside for the next pass.
"""

import smtplib
import time
from dataclasses import dataclass

from django.conf import settings
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

# anymail ESPs whose batch API is used for outreach. Batch personalisation relies on the ESP replacing the merge
# markers of outreach.messages in the body; SendGrid's legacy substitutions do exactly that. Other ESPs fall back
# to one API call per contact over a reused session (correct, just more calls).
BATCH_ESPS = frozenset({"sendgrid"})
_REASON_MAX = 500


@dataclass(frozen=True)
class Failure:
    reason: str
    transient: bool
    provider_wide: bool = False  # the provider itself is unavailable: stop this pass
    retry_after: float | None = None


def sending_available() -> bool:
    """Whether e-mail can be sent at all (api.md §5.1 → 503 ``email_unavailable`` otherwise)."""
    if not settings.OUTREACH_SENDING_ENABLED:
        return False
    if settings.EMAIL_BACKEND == "django.core.mail.backends.smtp.EmailBackend" and not settings.EMAIL_HOST:
        return False
    try:
        connection = mail.get_connection(fail_silently=False)
    except (ImproperlyConfigured, ImportError):  # e.g. an anymail ESP without its API key
        return False
    esp_key = getattr(connection, "api_key", "not-an-esp")
    return bool(esp_key)


def get_connection():
    return mail.get_connection(fail_silently=False)


def is_anymail(connection) -> bool:
    """An anymail ESP backend (its messages carry merge data and report the ESP's message ids)."""
    from anymail.backends.base import AnymailBaseBackend

    return isinstance(connection, AnymailBaseBackend)


def supports_batch(connection) -> bool:
    return is_anymail(connection) and getattr(connection, "esp_name", "").lower() in BATCH_ESPS


class RateLimiter:
    """At most ``rate`` provider calls per second (a minimum interval between calls, no bursts)."""

    def __init__(self, rate: float | None = None):
        self.interval = 1.0 / float(rate or settings.EMAIL_RATE_LIMIT)
        self._next = 0.0

    def wait(self) -> None:
        now = time.monotonic()
        if now < self._next:
            time.sleep(self._next - now)
            now = self._next
        self._next = now + self.interval


def _short(text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())[:_REASON_MAX]


def _retry_after(response) -> float | None:
    value = getattr(response, "headers", {}).get("Retry-After") if response is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except (TypeError, ValueError):
        return None


def _provider_message(response) -> str:
    """The first error message of an ESP's JSON error body (SendGrid: ``{"errors": [{"message": ...}]}``)."""
    try:
        data = response.json()
    except (AttributeError, ValueError):
        return ""
    errors = data.get("errors") if isinstance(data, dict) else None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return _short(errors[0].get("message") or "")
    if isinstance(data, dict) and isinstance(data.get("message"), str):
        return _short(data["message"])
    return ""


def _classify_anymail(exc) -> Failure | None:
    from anymail.exceptions import (
        AnymailAPIError,
        AnymailError,
        AnymailInvalidAddress,
        AnymailRecipientsRefused,
    )

    if isinstance(exc, AnymailRecipientsRefused):
        return Failure("Recipient refused by the e-mail provider.", transient=False)
    if isinstance(exc, AnymailInvalidAddress):
        return Failure("Invalid e-mail address.", transient=False)
    if isinstance(exc, AnymailAPIError):
        status = exc.status_code
        response = exc.response
        if status is None:
            cause = type(exc.__cause__).__name__ if exc.__cause__ else "connection error"
            return Failure(f"E-mail provider unreachable ({cause}).", transient=True, provider_wide=True)
        detail = _provider_message(response)
        suffix = f": {detail}" if detail else "."
        if status in (408, 429) or status >= 500:
            return Failure(
                f"E-mail provider unavailable (HTTP {status}){suffix}",
                transient=True,
                provider_wide=True,
                retry_after=_retry_after(response),
            )
        if 200 <= status < 300:  # accepted, but the answer was unreadable: never re-send (could duplicate)
            return Failure("E-mail provider response not understood; not re-sent.", transient=False)
        return Failure(f"Rejected by the e-mail provider (HTTP {status}){suffix}", transient=False)
    if isinstance(exc, AnymailError):
        return Failure(f"E-mail provider error ({type(exc).__name__}).", transient=False)
    return None


def _smtp_code_failure(code: int, text, what: str, *, provider_wide: bool = False) -> Failure:
    return Failure(
        f"{what} ({code} {_short(text)})".strip(),
        transient=400 <= code < 500,
        provider_wide=provider_wide and 400 <= code < 500,
    )


def classify(exc: BaseException) -> Failure:
    """Transient or permanent, provider-wide or for this message only; with a reason fit for the record."""
    failure = _classify_anymail(exc)
    if failure is not None:
        return failure
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [(code, text) for code, text in exc.recipients.values()] or [(550, b"")]
        code, text = codes[0]
        transient = all(400 <= c < 500 for c, _ in codes)
        return Failure(f"Recipient refused by the mail server ({code} {_short(text)})", transient=transient)
    if isinstance(
        exc,
        smtplib.SMTPServerDisconnected
        | smtplib.SMTPConnectError
        | smtplib.SMTPHeloError
        | smtplib.SMTPAuthenticationError
        | smtplib.SMTPNotSupportedError,
    ):
        return Failure(f"Mail server unavailable ({type(exc).__name__}).", transient=True, provider_wide=True)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return _smtp_code_failure(exc.smtp_code, exc.smtp_error, "Sender refused by the mail server")
    if isinstance(exc, smtplib.SMTPResponseException):
        return _smtp_code_failure(exc.smtp_code, exc.smtp_error, "Message refused by the mail server")
    if isinstance(exc, smtplib.SMTPException):
        return Failure(f"Mail server error ({type(exc).__name__}).", transient=True, provider_wide=True)
    if isinstance(exc, OSError):  # refused, reset, timeouts, DNS, TLS
        return Failure(f"Mail server unavailable ({type(exc).__name__}).", transient=True, provider_wide=True)
    if isinstance(exc, ValueError):  # BadHeaderError, unusable address
        return Failure(f"The message could not be built ({type(exc).__name__}).", transient=False)
    return Failure(f"Unexpected error while sending ({type(exc).__name__}).", transient=False)


def provider_message_id(message, address: str) -> str:
    """The id to match delivery events with: anymail's per-recipient id, the outbox row, or our Message-ID."""
    status = getattr(message, "anymail_status", None)
    if status is not None:
        recipient = status.recipients.get(address)
        if recipient is not None and recipient.message_id:
            return str(recipient.message_id)
        if isinstance(status.message_id, str):
            return status.message_id
    outbox_id = getattr(message, "outbox_id", None)
    if outbox_id:
        return str(outbox_id)
    return str(message.extra_headers.get("Message-ID", ""))[:255]


def recipient_refused(message, address: str) -> str | None:
    """A reason when the ESP answered the call but refused this recipient (anymail status rejected/invalid)."""
    status = getattr(message, "anymail_status", None)
    recipient = status.recipients.get(address) if status is not None else None
    if recipient is not None and recipient.status in ("rejected", "invalid"):
        return f"Refused by the e-mail provider ({recipient.status})."
    return None
