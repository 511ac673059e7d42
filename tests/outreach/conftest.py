"""Fixtures for the outreach tests: a candidate with a stored enhanced CV, school contacts, the provider fakes."""

import base64
import email
import itertools
import time
import uuid
from dataclasses import dataclass, field

import pytest
from aiosmtpd.controller import Controller
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

PDF_BYTES = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
_counter = itertools.count()


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings):
    settings.EMAIL_RATE_LIMIT = 10_000  # pacing has its own test
    settings.DEFAULT_FROM_EMAIL = "Agency Desk <desk@agency.example>"
    settings.EMAIL_REPLY_TO = ["replies@agency.example"]
    settings.AGENCY_NAME = "Bright Futures Education"
    settings.AGENCY_CONTACT_LINE = "0113 496 0000 · brightfutures.example"
    settings.PUBLIC_BASE_URL = "https://cv.agency.example"


@dataclass
class ActivityRecorder:
    calls: list = field(default_factory=list)

    def __call__(self, event_type, **fields):
        self.calls.append({"event_type": event_type, **fields})

    def of(self, event_type):
        return [c for c in self.calls if c["event_type"] == event_type]


@pytest.fixture(autouse=True)
def activity(monkeypatch):
    """accounts.activity.record_activity, recorded (the outreach code calls it with the documented signature)."""
    import accounts.activity

    recorder = ActivityRecorder()
    monkeypatch.setattr(accounts.activity, "record_activity", recorder)
    return recorder


@pytest.fixture
def make_candidate(db):
    from candidates.models import Candidate, Stage

    def make(with_cv=True, **fields):
        n = next(_counter)
        defaults = {
            "name": "Sarah Jones",
            "name_without_surname": "Sarah",
            "email": f"sarah.jones{n}@example.org",
            "whatsapp_number": "+447700900123",
            "postcode": "LS6 2AB",
            "location": "Leeds",
            "email_subject": "Experienced primary teacher available in Leeds",
            "email_body": "Sarah is a primary teacher with 6 years' experience in KS1 & KS2.\n\nShe is available now.",
            "file_sha256": uuid.uuid4().hex * 2,
            "processing_stage": Stage.DONE,
            "ai_enhanced_cv_content": {
                "data_extracted": {
                    "employment_history": [{"company": "Jones Park Academy", "role": "Teacher"}],
                    "qualifications": ["PGCE, University of Leeds"],
                }
            },
        }
        defaults.update(fields)
        candidate = Candidate.objects.create(**defaults)
        if with_cv:
            name = default_storage.save(f"candidates/enhanced/{candidate.pk}/cv.pdf", ContentFile(PDF_BYTES))
            Candidate.objects.filter(pk=candidate.pk).update(enhanced_cv=name)
            candidate.refresh_from_db()
        return candidate

    return make


@pytest.fixture
def candidate(make_candidate):
    return make_candidate()


@pytest.fixture
def make_contacts(db):
    from organizations.models import Contact, Organization

    def make(count, *, people=None, school="Oakfield Primary School", **fields):
        n = next(_counter)
        org = Organization.objects.create(name=f"{school} {n}", local_authority="Leeds", postcode="LS1 1AA")
        contacts = []
        for i in range(count):
            person = people[i] if people and i < len(people) else f"Teacher {i}"
            contacts.append(
                Contact(
                    organization=org,
                    contact_person=person,
                    job_title=fields.get("job_title", "Headteacher"),
                    work_email=f"contact{n}.{i}@school{n}.sch.uk",
                    is_role_mailbox=fields.get("is_role_mailbox", False),
                )
            )
        return Contact.objects.bulk_create(contacts)

    return make


@pytest.fixture
def start_job(operator):
    """Create an outreach job through the service the API uses, without enqueueing it."""
    from outreach import services

    def start(candidate, contacts, *, force=False, subject="", body=""):
        ids = [str(c.pk) for c in contacts]
        result = services.start_outreach(
            candidate, contact_ids_raw=ids, subject=subject, body=body, force=force, user=operator
        )
        return result["task_id"]

    return start


@pytest.fixture
def smtp_settings(settings, smtp_server):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp_server.port, 5
    return smtp_server


def parse(envelope):
    return email.message_from_bytes(envelope.content)


def parts(message):
    """{content type: decoded text or bytes}, attachments as {filename: bytes} under 'attachments'."""
    found = {"attachments": {}}
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.get_filename():
            found["attachments"][part.get_filename()] = part.get_payload(decode=True)
        else:
            found[part.get_content_type()] = (
                part.get_payload(decode=True).decode(part.get_content_charset()).replace("\r\n", "\n")
            )
    return found


class _PickySMTP:
    """A real SMTP server that refuses some recipients: ``bounce*`` 550 always, ``grey*`` 451 the first time."""

    def __init__(self):
        self.envelopes, self.sessions, self.greylisted = [], [], set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split("@")[0]
        if local.startswith("bounce"):
            return "550 5.1.1 Mailbox does not exist"
        if local.startswith("grey") and address not in self.greylisted:
            self.greylisted.add(address)
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        self.sessions.append(id(session))
        return "250 Message accepted for delivery"


@pytest.fixture
def picky_smtp(settings):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    handler = _PickySMTP()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 5
    yield handler
    controller.stop()


class SendGridScript:
    """Answers of the fake SendGrid API in order (then 202 for ever): (status, headers, body)."""

    def __init__(self):
        self.answers = []

    def __call__(self, request):
        if self.answers:
            return self.answers.pop(0)
        return 202, {"X-Message-Id": f"sg{time.time_ns()}"}, b""


@pytest.fixture
def sendgrid(fake_http, settings):
    """A local fake of SendGrid's v3 API behind anymail's SendGrid backend; ``.requests`` holds the payloads."""
    script = SendGridScript()
    server = fake_http(script)
    server.script = script
    settings.EMAIL_BACKEND = "anymail.backends.sendgrid.EmailBackend"
    settings.ANYMAIL = {"SENDGRID_API_KEY": "SG.test-key", "SENDGRID_API_URL": server.url + "/v3/"}
    return server


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class _Outage:
    def __init__(self, server):
        self.server, self.down = server, False

    def begin(self):
        self.server.controller.stop()
        self.down = True

    def end(self):
        # The same server (recorder, port) comes back; aiosmtpd controllers cannot be restarted, so make a new one.
        self.server.controller = Controller(self.server.recorder, hostname="127.0.0.1", port=self.server.port)
        self.server.controller.start()
        self.down = False


@pytest.fixture
def smtp_outage(smtp_settings):
    """Stop and restart the real SMTP server (``begin()`` / ``end()``); running again at teardown."""
    outage = _Outage(smtp_settings)
    yield outage
    if outage.down:
        outage.end()
