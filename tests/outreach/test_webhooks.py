"""Provider delivery events (api.md §5.5): signed with real ECDSA keys / HMAC, de-duplicated, applied."""

import base64
import hashlib
import hmac
import json
import time
import uuid

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from outreach import services
from outreach.models import DeliveryEvent, OutreachMessage, Suppression

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]
URL = "/api/outreach/events/"


@pytest.fixture
def signing_key(settings):
    """A fresh P-256 key pair; the public half configured the way SendGrid shows it (base64 DER)."""
    key = ec.generate_private_key(ec.SECP256R1())
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    settings.EMAIL_WEBHOOK_VERIFIER = "sendgrid"
    settings.EMAIL_WEBHOOK_PUBLIC_KEY = base64.b64encode(der).decode()
    return key


def sendgrid_post(client, key, events, *, timestamp=None, body=None, tamper=False):
    body = body if body is not None else json.dumps(events).encode()
    timestamp = str(timestamp if timestamp is not None else int(time.time()))
    signature = key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
    if tamper:
        body = body.replace(b"delivered", b"bounce")
    return client.generic(
        "POST",
        URL,
        body,
        content_type="application/json",
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE=base64.b64encode(signature).decode(),
        HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=timestamp,
    )


@pytest.fixture
def sent(candidate, make_contacts, sendgrid, start_job):
    """Four contacts sent this candidate through the (fake) SendGrid API."""
    contacts = make_contacts(4)
    job_id = start_job(candidate, contacts)
    services.run_outreach_job(job_id)
    return list(OutreachMessage.objects.filter(job_id=job_id).order_by("contact_email"))


def event(message, kind, **extra):
    return {
        "event": kind,
        "email": message.contact_email,
        "timestamp": int(time.time()),
        "sg_event_id": uuid.uuid4().hex,
        "sg_message_id": f"{uuid.uuid4().hex[:22]}.filter0001.1.0",
        "outreach_id": str(message.pk),
        "candidate_id": str(message.candidate_id),
        **extra,
    }


def test_events_update_records_suppress_and_report(client, signing_key, sent, activity):
    delivered, bounced, spam, unsub = sent
    events = [
        event(delivered, "processed"),
        event(delivered, "delivered"),
        event(delivered, "open"),
        event(bounced, "bounce", type="bounce", reason="550 5.1.1 unknown user"),
        event(spam, "spamreport"),
        event(unsub, "group_unsubscribe"),
    ]
    response = sendgrid_post(client, signing_key, events)
    assert response.status_code == 200 and response.json() == {"processed": 4, "ignored": 2}
    status = {m.pk: m.delivery_status for m in OutreachMessage.objects.all()}
    assert [status[m.pk] for m in sent] == ["delivered", "bounced", "spam_report", "unsubscribed"]
    assert OutreachMessage.objects.get(pk=bounced.pk).delivery_updated_at is not None
    assert dict(Suppression.objects.values_list("email", "reason")) == {
        bounced.contact_email: "bounce",
        spam.contact_email: "spam_report",
        unsub.contact_email: "unsubscribe",
    }
    problems = activity.of("outreach_delivery_problem")
    assert len(problems) == 2 and {p["severity"] for p in problems} == {"warning"}
    assert all(p["candidate_id"] == bounced.candidate_id for p in problems)
    assert all(m.contact_email not in p["message"] for p in problems for m in sent)  # masked addresses only

    # The provider retries the delivery: everything is a duplicate now.
    response = sendgrid_post(client, signing_key, events)
    assert response.json() == {"processed": 0, "ignored": 6}
    assert DeliveryEvent.objects.count() == 4 and len(activity.of("outreach_delivery_problem")) == 2


def test_terminal_status_never_overwritten_by_delivered_or_deferred(client, signing_key, sent):
    message = sent[0]
    sendgrid_post(client, signing_key, [event(message, "bounce")])
    response = sendgrid_post(client, signing_key, [event(message, "delivered"), event(message, "deferred")])
    assert response.json() == {"processed": 0, "ignored": 2}
    assert OutreachMessage.objects.get(pk=message.pk).delivery_status == "bounced"
    other = sent[1]
    sendgrid_post(client, signing_key, [event(other, "delivered"), event(other, "deferred")])
    assert OutreachMessage.objects.get(pk=other.pk).delivery_status == "delivered"


def test_soft_bounce_and_dropped(client, signing_key, sent):
    blocked, dropped = sent[:2]
    sendgrid_post(client, signing_key, [event(blocked, "bounce", type="blocked"), event(dropped, "dropped")])
    assert OutreachMessage.objects.get(pk=blocked.pk).delivery_status == "bounced"
    assert OutreachMessage.objects.get(pk=dropped.pk).delivery_status == "dropped"
    assert list(Suppression.objects.values_list("email", "reason")) == [(dropped.contact_email, "bounce")]


def test_message_found_by_provider_id_without_custom_args(client, signing_key, sent):
    message = sent[0]
    data = event(message, "delivered", anymail_id=message.provider_message_id)
    del data["outreach_id"]
    assert sendgrid_post(client, signing_key, [data]).json() == {"processed": 1, "ignored": 0}
    assert OutreachMessage.objects.get(pk=message.pk).delivery_status == "delivered"


def test_bounce_for_an_unknown_message_still_suppresses_the_address(client, signing_key):
    data = {
        "event": "bounce",
        "email": "Gone@School.sch.uk",
        "timestamp": int(time.time()),
        "sg_event_id": "e1",
    }
    assert sendgrid_post(client, signing_key, [data]).json() == {"processed": 1, "ignored": 0}
    assert Suppression.objects.get().email == "gone@school.sch.uk"
    junk = [
        1,
        "x",
        None,
        {"event": "delivered"},
        {"event": "delivered", "outreach_id": "nope", "sg_event_id": "e2"},
    ]
    assert sendgrid_post(client, signing_key, junk).json() == {"processed": 0, "ignored": 5}


@pytest.mark.parametrize(
    "variant", ["tampered", "stale", "future", "other_key", "no_headers", "bad_base64", "no_key_configured"]
)
def test_unverified_requests_are_refused(client, signing_key, settings, variant):
    events = [{"event": "delivered", "email": "a@b.c", "sg_event_id": "x", "timestamp": 1}]
    if variant == "tampered":
        response = sendgrid_post(client, signing_key, events, tamper=True)
    elif variant == "stale":
        response = sendgrid_post(client, signing_key, events, timestamp=int(time.time()) - 301)
    elif variant == "future":
        response = sendgrid_post(client, signing_key, events, timestamp=int(time.time()) + 900)
    elif variant == "other_key":
        response = sendgrid_post(client, ec.generate_private_key(ec.SECP256R1()), events)
    elif variant == "no_headers":
        response = client.post(URL, events, content_type="application/json")
    elif variant == "bad_base64":
        response = client.post(
            URL,
            events,
            content_type="application/json",
            HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_SIGNATURE="***",
            HTTP_X_TWILIO_EMAIL_EVENT_WEBHOOK_TIMESTAMP=str(int(time.time())),
        )
    else:
        settings.EMAIL_WEBHOOK_PUBLIC_KEY = ""
        response = sendgrid_post(client, signing_key, events)
    assert response.status_code == 403 and response.json() == {"detail": "Invalid signature."}
    assert DeliveryEvent.objects.count() == 0


def test_recent_timestamp_within_the_window_is_accepted(client, signing_key):
    events = [{"event": "bounce", "email": "a@school.sch.uk", "sg_event_id": "x", "timestamp": 1}]
    assert sendgrid_post(client, signing_key, events, timestamp=int(time.time()) - 290).status_code == 200


@pytest.mark.parametrize(
    ("body", "detail"),
    [(b"[{bad json", "Malformed JSON."), (b'{"event": "x"}', "Expected a JSON array of events.")],
)
def test_malformed_signed_body_is_400(client, signing_key, body, detail):
    response = sendgrid_post(client, signing_key, None, body=body)
    assert response.status_code == 400 and response.json()["detail"] == detail


def test_hmac_verifier(client, settings, sent):
    settings.EMAIL_WEBHOOK_VERIFIER = "hmac"
    settings.EMAIL_WEBHOOK_SECRET = "s" * 40
    body = json.dumps([event(sent[0], "spamreport")]).encode()
    timestamp = str(int(time.time()))
    digest = hmac.new(
        settings.EMAIL_WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256
    ).hexdigest()

    def post(signature, ts=timestamp):
        return client.generic(
            "POST",
            URL,
            body,
            content_type="application/json",
            HTTP_X_WEBHOOK_SIGNATURE=signature,
            HTTP_X_WEBHOOK_TIMESTAMP=ts,
        )

    assert post(f"sha256={'0' * 64}").status_code == 403
    assert post(digest).status_code == 403  # the scheme prefix is required
    assert post(f"sha256={digest}", ts=str(int(timestamp) - 400)).status_code == 403
    response = post(f"sha256={digest}")
    assert response.status_code == 200 and response.json() == {"processed": 1, "ignored": 0}
    assert Suppression.objects.get().reason == "spam_report"


def test_anymail_tracking_signal_feeds_the_same_application(sent):
    from datetime import UTC, datetime

    from anymail.signals import AnymailTrackingEvent, tracking

    message = sent[0]
    tracked = AnymailTrackingEvent(
        event_type="bounced",
        timestamp=datetime.now(UTC),
        event_id="mg-1",
        recipient=message.contact_email,
        metadata={"outreach_id": str(message.pk)},
        esp_event={},
    )
    tracking.send(sender=object, event=tracked, esp_name="Mailgun")
    tracking.send(sender=object, event=tracked, esp_name="Mailgun")  # replayed
    assert OutreachMessage.objects.get(pk=message.pk).delivery_status == "bounced"
    assert Suppression.objects.get().email == message.contact_email
    assert list(DeliveryEvent.objects.values_list("event_id", flat=True)) == ["mailgun:mg-1"]


ESP_SECRET = "events:" + "k3y" * 8


@pytest.fixture
def postmark_webhook(settings):
    """``EMAIL_PROVIDER=anymail:postmark`` with ``ANYMAIL_WEBHOOK_SECRET``: the outreach routes built under those
    settings, served as the URL configuration of this test."""
    import types

    from django.test import override_settings
    from django.urls import include, path

    from outreach.urls import build_urlpatterns

    anymail = {**settings.ANYMAIL, "WEBHOOK_SECRET": ESP_SECRET}
    with override_settings(EMAIL_PROVIDER="anymail:postmark", ANYMAIL=anymail):
        urlconf = types.ModuleType("esp_webhook_urls")
        urlconf.urlpatterns = [path("api/outreach/", include((build_urlpatterns(), "outreach")))]
        with override_settings(ROOT_URLCONF=urlconf):
            yield "/api/outreach/events/postmark/"


def test_another_esps_events_arrive_through_anymails_tracking_webhook(sent, postmark_webhook):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)  # as an ESP calls it: no cookie, no CSRF token
    message = sent[1]
    bounce = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "ID": 4242,
        "Email": message.contact_email,
        "BouncedAt": "2026-11-28T12:00:00Z",
        "Metadata": {"outreach_id": str(message.pk)},
        "Description": "The server was unable to deliver your message.",
    }
    body = json.dumps(bounce)
    auth = "Basic " + base64.b64encode(ESP_SECRET.encode()).decode()
    wrong = "Basic " + base64.b64encode(b"events:guessed-password").decode()

    for headers in ({}, {"HTTP_AUTHORIZATION": wrong}):  # anymail refuses it; nothing is applied
        response = client.post(postmark_webhook, body, content_type="application/json", **headers)
        assert response.status_code == 400
    assert OutreachMessage.objects.get(pk=message.pk).delivery_status != "bounced"

    for _ in range(2):  # the ESP retries: the replay changes nothing
        response = client.post(
            postmark_webhook, body, content_type="application/json", HTTP_AUTHORIZATION=auth
        )
        assert response.status_code == 200
    assert OutreachMessage.objects.get(pk=message.pk).delivery_status == "bounced"
    assert Suppression.objects.get().email == message.contact_email
    assert list(DeliveryEvent.objects.values_list("event_id", flat=True)) == ["postmark:4242"]


def test_without_a_webhook_secret_no_esp_webhook_is_mounted(client, settings):
    settings.EMAIL_PROVIDER = (
        "anymail:postmark"  # the URL configuration was built without ANYMAIL_WEBHOOK_SECRET
    )
    assert (
        client.post("/api/outreach/events/postmark/", "{}", content_type="application/json").status_code
        == 404
    )


def test_public_key_setting_is_validated_at_startup():
    from outreach.webhook_keys import load_public_key

    with pytest.raises(ValueError, match="base64 DER or PEM"):
        load_public_key("not a key")
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_pem = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    with pytest.raises(ValueError, match="P-256"):
        load_public_key(rsa_pem)
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    der = p384.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(ValueError, match="P-256"):
        load_public_key(base64.b64encode(der).decode())
