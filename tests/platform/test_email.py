"""The three e-mail paths: outbox (embedded), SMTP, and anymail (SendGrid by default)."""

import email

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives, get_connection

pytestmark = [pytest.mark.django_db]


def _message(connection=None):
    msg = EmailMultiAlternatives(
        subject="Your availability",
        body="Hello Sarah,\nAre you available?",
        from_email="Agency <jobs@agency.example>",
        to=["sarah@example.org"],
        reply_to=["desk@agency.example"],
        headers={"List-Unsubscribe": "<https://agency.example/u/abc/>"},
        connection=connection,
    )
    msg.attach_alternative("<p>Hello Sarah,<br>Are you available?</p>", "text/html")
    msg.attach("Sarah - CV.pdf", b"%PDF-1.7 test", "application/pdf")
    return msg


@pytest.mark.sqlite
def test_outbox_backend_stores_messages():
    from outreach.models import OutboxMessage

    connection = get_connection("outreach.backends.OutboxBackend")
    msg = _message(connection)
    assert msg.send() == 1
    row = OutboxMessage.objects.get()
    assert row.to == ["sarah@example.org"] and row.reply_to == ["desk@agency.example"]
    assert row.subject == "Your availability" and "Are you available?" in row.body
    assert row.html_body.startswith("<p>Hello Sarah")
    assert row.attachments == [{"filename": "Sarah - CV.pdf", "mimetype": "application/pdf", "size": 13}]
    assert row.headers == {"List-Unsubscribe": "<https://agency.example/u/abc/>"}
    assert msg.outbox_id == str(row.id)


def test_smtp_backend_delivers_to_a_real_smtp_server(smtp_server):
    connection = get_connection(
        "django.core.mail.backends.smtp.EmailBackend", host="127.0.0.1", port=smtp_server.port, timeout=10
    )
    assert _message(connection).send() == 1
    (envelope,) = smtp_server.messages
    assert envelope.rcpt_tos == ["sarah@example.org"]
    parsed = email.message_from_bytes(envelope.content)
    assert parsed["Subject"] == "Your availability"
    assert parsed["List-Unsubscribe"] == "<https://agency.example/u/abc/>"
    kinds = [part.get_content_type() for part in parsed.walk()]
    assert {"text/plain", "text/html", "application/pdf"} <= set(kinds)


def test_anymail_sendgrid_talks_to_the_provider_api(fake_http, settings):
    api = fake_http(lambda request: (202, {"X-Message-Id": "sg-123"}, b""))
    settings.ANYMAIL = {"SENDGRID_API_KEY": "SG.test-key", "SENDGRID_API_URL": api.url + "/v3/"}
    connection = get_connection("anymail.backends.sendgrid.EmailBackend")
    msg = _message(connection)
    assert msg.send() == 1
    (request,) = api.requests
    assert request.path == "/v3/mail/send" and request.headers["Authorization"] == "Bearer SG.test-key"
    payload = request.json()
    assert payload["personalizations"][0]["to"] == [{"email": "sarah@example.org"}]
    assert payload["attachments"][0]["filename"] == "Sarah - CV.pdf"
    assert msg.anymail_status.status == {"queued"}
    assert msg.anymail_status.message_id in request.body.decode()  # anymail tracks its own id


@pytest.mark.sqlite
def test_locmem_is_what_unit_tests_use(settings):
    assert settings.EMAIL_BACKEND == "django.core.mail.backends.locmem.EmailBackend"
    _message().send()
    assert len(mail.outbox) == 1
