"""Provider delivery events (api.md §5.5): signature verification of the raw body, then event application.

Verification (``EMAIL_WEBHOOK_VERIFIER``), always on the raw bytes before any parsing:

- ``sendgrid`` — SendGrid's Signed Event Webhook: ECDSA P-256 / SHA-256 signature (base64 DER) in
  ``X-Twilio-Email-Event-Webhook-Signature`` over ``X-Twilio-Email-Event-Webhook-Timestamp`` + body, checked with
  ``EMAIL_WEBHOOK_PUBLIC_KEY``.
- ``hmac`` — ``X-Webhook-Signature: sha256=<hex HMAC-SHA256(EMAIL_WEBHOOK_SECRET, "<X-Webhook-Timestamp>.<body>")>``
  for providers (or relays) that sign with a shared secret.

A timestamp more than EMAIL_WEBHOOK_MAX_AGE (300 s) away from now is refused, so a captured request cannot be
replayed later; replays inside the window are harmless because events are de-duplicated by id (``DeliveryEvent``).

Other ESPs: django-anymail normalises the tracking webhooks of Mailgun, Postmark, Brevo, SparkPost, Amazon SES and
others into its ``tracking`` signal. :func:`on_anymail_tracking` is connected to that signal (see ``apps.py``) and
feeds the same :func:`apply_event`, so mounting anymail's webhook URLs (``path("anymail/", include("anymail.urls"))``
in ``cvengine/urls.py`` plus ``ANYMAIL["WEBHOOK_SECRET"]``, see anymail's "Tracking webhooks" docs) is all another
ESP needs. Our send code puts ``outreach_id`` and ``candidate_id`` in each message's metadata for that purpose.
"""

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature as _CryptoInvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from . import services
from .models import DeliveryEvent, OutreachMessage, Suppression
from .unsubscribe import mask_email, normalise_email
from .webhook_keys import load_public_key

SENDGRID_SIGNATURE = "X-Twilio-Email-Event-Webhook-Signature"
SENDGRID_TIMESTAMP = "X-Twilio-Email-Event-Webhook-Timestamp"
HMAC_SIGNATURE = "X-Webhook-Signature"
HMAC_TIMESTAMP = "X-Webhook-Timestamp"

Delivery = OutreachMessage.Delivery
TERMINAL = frozenset({Delivery.BOUNCED, Delivery.DROPPED, Delivery.SPAM_REPORT, Delivery.UNSUBSCRIBED})
SUPPRESSION_FOR = {
    Delivery.BOUNCED: Suppression.Reason.BOUNCE,
    Delivery.DROPPED: Suppression.Reason.BOUNCE,
    Delivery.SPAM_REPORT: Suppression.Reason.SPAM_REPORT,
    Delivery.UNSUBSCRIBED: Suppression.Reason.UNSUBSCRIBE,
}
PROBLEMS = {
    Delivery.BOUNCED: "bounced",
    Delivery.DROPPED: "dropped",
    Delivery.SPAM_REPORT: "reported as spam",
}
SENDGRID_EVENTS = {
    "delivered": Delivery.DELIVERED,
    "deferred": Delivery.DEFERRED,
    "bounce": Delivery.BOUNCED,
    "dropped": Delivery.DROPPED,
    "spamreport": Delivery.SPAM_REPORT,
    "unsubscribe": Delivery.UNSUBSCRIBED,
    "group_unsubscribe": Delivery.UNSUBSCRIBED,
}  # processed, open, click (and anything unknown) are ignored
ANYMAIL_EVENTS = {
    "delivered": Delivery.DELIVERED,
    "deferred": Delivery.DEFERRED,
    "bounced": Delivery.BOUNCED,
    "rejected": Delivery.DROPPED,
    "complained": Delivery.SPAM_REPORT,
    "unsubscribed": Delivery.UNSUBSCRIBED,
}


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class InvalidSignature(Exception):
    pass


class MalformedPayload(Exception):
    pass


@dataclass(frozen=True)
class Event:
    """A provider event normalised to what outreach needs."""

    event_id: str
    status: str  # an OutreachMessage.Delivery value
    email: str = ""
    outreach_id: str = ""
    message_ids: tuple[str, ...] = ()
    timestamp: datetime | None = None
    suppress: bool = True  # False for soft bounces ("blocked"): recorded, address kept
    source: str = "provider"


# --- verification -----------------------------------------------------------------------------------------------


def _fresh(timestamp: str | None) -> bool:
    try:
        sent = int(str(timestamp).strip())
    except (TypeError, ValueError):
        return False
    return abs(time.time() - sent) <= settings.EMAIL_WEBHOOK_MAX_AGE


def verify(body: bytes, headers) -> None:
    """Raise InvalidSignature unless ``body`` is signed as EMAIL_WEBHOOK_VERIFIER requires and recent."""
    if settings.EMAIL_WEBHOOK_VERIFIER == "hmac":
        signature, timestamp = headers.get(HMAC_SIGNATURE), headers.get(HMAC_TIMESTAMP)
        secret = settings.EMAIL_WEBHOOK_SECRET
        if not (secret and signature and _fresh(timestamp)):
            raise InvalidSignature
        expected = hmac.new(
            secret.encode(), f"{timestamp.strip()}.".encode() + body, hashlib.sha256
        ).hexdigest()
        scheme, _, given = signature.strip().partition("=")
        if scheme.lower() != "sha256" or not hmac.compare_digest(given.strip().lower(), expected):
            raise InvalidSignature
        return
    signature, timestamp = headers.get(SENDGRID_SIGNATURE), headers.get(SENDGRID_TIMESTAMP)
    if not (settings.EMAIL_WEBHOOK_PUBLIC_KEY and signature and _fresh(timestamp)):
        raise InvalidSignature
    try:
        key = load_public_key(settings.EMAIL_WEBHOOK_PUBLIC_KEY)
        raw_signature = base64.b64decode(signature.strip(), validate=True)
        key.verify(raw_signature, timestamp.strip().encode() + body, ec.ECDSA(hashes.SHA256()))
    except (ValueError, binascii.Error, _CryptoInvalidSignature) as exc:
        raise InvalidSignature from exc


# --- parsing ------------------------------------------------------------------------------------------------------


def parse(body: bytes) -> list:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedPayload("Malformed JSON.") from exc
    if not isinstance(data, list):
        raise MalformedPayload("Expected a JSON array of events.")
    return data


def _text(value, limit: int = 255) -> str:
    """A provider string, without control characters (PostgreSQL refuses NUL) and bounded."""
    return _CONTROL.sub("", value).strip()[:limit] if isinstance(value, str) else ""


def _timestamp(value) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _uuid_text(value) -> str:
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError, AttributeError):
        return ""


def _fallback_id(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def from_sendgrid(data: dict) -> Event | None:
    """A SendGrid-shaped event (``event``, ``email``, ``sg_event_id``, ``sg_message_id``, custom args top-level);
    None for event types outreach ignores."""
    status = SENDGRID_EVENTS.get(_text(data.get("event")).lower())
    if status is None:
        return None
    event_id = _text(data.get("sg_event_id"), 200)
    sg_message_id = _text(data.get("sg_message_id"))
    message_ids = tuple(
        dict.fromkeys(
            i for i in (_text(data.get("anymail_id")), sg_message_id, sg_message_id.split(".")[0]) if i
        )
    )
    return Event(
        event_id=event_id or _fallback_id(data),
        status=status,
        email=normalise_email(_text(data.get("email"), 254)),
        outreach_id=_uuid_text(data.get("outreach_id")),
        message_ids=message_ids,
        timestamp=_timestamp(data.get("timestamp")),
        suppress=not (status == Delivery.BOUNCED and _text(data.get("type")).lower() == "blocked"),
        source="sendgrid event",
    )


def from_anymail(event, esp_name: str) -> Event | None:
    """An anymail AnymailTrackingEvent (any ESP whose tracking webhook anymail handles)."""
    status = ANYMAIL_EVENTS.get(str(event.event_type))
    if status is None:
        return None
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    event_id = _text(event.event_id, 200)
    esp = (esp_name or "anymail").lower()
    if event_id and esp != "sendgrid":  # SendGrid ids match those our own endpoint stores
        event_id = f"{esp}:{event_id}"
    return Event(
        event_id=event_id or _fallback_id(vars(event).get("esp_event") or repr(vars(event))),
        status=status,
        email=normalise_email(_text(event.recipient, 254)),
        outreach_id=_uuid_text(metadata.get("outreach_id")),
        message_ids=tuple(i for i in (_text(event.message_id),) if i),
        timestamp=event.timestamp if isinstance(event.timestamp, datetime) else None,
        source=f"{esp} event"[:100],
    )


# --- application --------------------------------------------------------------------------------------------------


def _find_message(event: Event) -> OutreachMessage | None:
    messages = OutreachMessage.objects.select_related("job")
    if event.outreach_id:
        found = messages.filter(pk=event.outreach_id).first()
        if found is not None:
            return found
    if event.message_ids:
        return messages.filter(provider_message_id__in=event.message_ids).order_by("-created_at").first()
    return None


def _update_delivery(message: OutreachMessage, event: Event) -> bool:
    """Set the delivery status; delivered/deferred never overwrite a terminal status, deferred never delivered."""
    rows = OutreachMessage.objects.filter(pk=message.pk)
    if event.status in (Delivery.DELIVERED, Delivery.DEFERRED):
        rows = rows.exclude(delivery_status__in=TERMINAL)
    if event.status == Delivery.DEFERRED:
        rows = rows.exclude(delivery_status=Delivery.DELIVERED)
    return bool(
        rows.update(delivery_status=event.status, delivery_updated_at=event.timestamp or timezone.now())
    )


def apply_event(event: Event) -> bool:
    """Apply one event once (de-duplicated by id); True if it changed anything."""
    with transaction.atomic():
        try:
            with transaction.atomic():
                DeliveryEvent.objects.create(event_id=event.event_id)
        except IntegrityError:
            return False  # seen before
        message = _find_message(event)
        changed = _update_delivery(message, event) if message is not None else False
        address = event.email or (message.contact_email if message is not None else "")
        reason = SUPPRESSION_FOR.get(event.status)
        if reason and event.suppress and "@" in address:
            services.suppress(address, reason, source=event.source)
            changed = True
        if event.status in PROBLEMS and (message is not None or "@" in address):
            where = (
                f" at {message.organization_name}"
                if message is not None and message.organization_name
                else ""
            )
            services.record_activity(
                "outreach_delivery_problem",
                title=f"Outreach e-mail {PROBLEMS[event.status]}",
                message=f"The e-mail to {mask_email(address)}{where} was {PROBLEMS[event.status]}"
                + ("; the address is now suppressed." if reason and event.suppress else "."),
                severity="warning",
                candidate_id=message.candidate_id if message is not None else None,
                organization_id=message.organization_id if message is not None else None,
            )
    return changed


def process(body: bytes, headers) -> dict[str, int]:
    """Verify, parse and apply a webhook request → ``{"processed": n, "ignored": m}``."""
    verify(body, headers)
    processed = ignored = 0
    for item in parse(body):
        event = from_sendgrid(item) if isinstance(item, dict) else None
        if event is not None and apply_event(event):
            processed += 1
        else:
            ignored += 1
    return {"processed": processed, "ignored": ignored}


def on_anymail_tracking(sender, event, esp_name, **kwargs) -> None:
    """Receiver for anymail's ``tracking`` signal: the same application as our own endpoint."""
    normalised = from_anymail(event, esp_name)
    if normalised is not None:
        apply_event(normalised)
