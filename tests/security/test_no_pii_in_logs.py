"""No personal data in the logs at INFO level (reference-defects S9; README ``LOG_LEVEL``).

A real CV goes through the whole pipeline (upload over the API, extraction, analysis, PDF, availability e-mail
over SMTP; tasks eager), is opened in the API (signed links minted), sent to school contacts over SMTP, and the
delivery webhook reports a bounce; the account flows that handle addresses run too (failed login, password-reset
code). Logging is captured at INFO for every logger, twice:

- what reaches the log output: the production handler (with the ``RedactPersonalData`` safety net), formatted;
- what our code emits (records of the project's own loggers, before any filter): code must not rely on the net.

Neither may contain an e-mail address, a phone number, a line of the CV's text or a signed URL.
Links that reach the server are logged by Django when refused (``Forbidden: /api/files/<token>/``, ``Not Found:
/api/outreach/unsubscribe/<token>/``): both tokens are masked in the output (an unsubscribe token is a signed
but readable encoding of the address). The fake SMTP server (aiosmtpd, logger ``mail.log``) stands in for a remote
mail server: it is not ours and is kept quiet.
"""

import hashlib
import hmac
import io
import json
import logging
import logging.config
import re
import time
from datetime import date

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.cvgen.layouts import render as render_cv
from tests.cvgen.profile import make_profile

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.sqlite]
OWN_LOGGERS = ("cvengine", "accounts", "candidates", "organizations", "outreach", "core", "ai_service")
EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
SIGNED = re.compile(
    r"X-Amz-Signature|X-Amz-Credential|/api/files/(?!\[token\])[^/\s]+|/unsubscribe/(?!\[)[^/\s]+"
)
WEBHOOK_SECRET = "log-test-webhook-secret-" + "w" * 20


class Capture(logging.Handler):
    def __init__(self):
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


@pytest.fixture
def logs(settings):
    """Production logging at INFO (the handler writes to a buffer) plus a raw capture of every record."""
    config = json.loads(json.dumps(django_settings.LOGGING))
    config["root"]["level"] = "INFO"
    logging.config.dictConfig(config)
    output = io.StringIO()
    console = next(h for h in logging.getLogger().handlers if isinstance(h, logging.StreamHandler))
    console.setStream(output)
    raw = Capture()
    logging.getLogger().addHandler(raw)
    fake_smtp = logging.getLogger("mail.log")
    fake_smtp.setLevel(logging.WARNING)  # the fake SMTP server's narration is not our log
    yield output, raw
    fake_smtp.setLevel(logging.NOTSET)
    logging.getLogger().removeHandler(raw)
    config["root"]["level"] = django_settings.LOG_LEVEL
    logging.config.dictConfig(config)


def _cv(tmp_path):
    """A CV that states an e-mail address, a phone number and a postcode (seeds are deterministic)."""
    for seed in range(40, 400):
        profile = make_profile(seed, date.today(), "docx_table")
        if profile.email and profile.phone and profile.postcode:
            path = render_cv(profile, tmp_path / f"cv-{seed}", "docx_table")
            return profile, SimpleUploadedFile(path.name, path.read_bytes())
    raise AssertionError("no seed gives a CV with e-mail, phone and postcode")


def _sign(body: bytes) -> dict:
    timestamp = str(int(time.time()))
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return {"HTTP_X_WEBHOOK_TIMESTAMP": timestamp, "HTTP_X_WEBHOOK_SIGNATURE": f"sha256={digest}"}


def _personal_data(text: str, secrets: list[str], lines: list[str]) -> list[str]:
    found = list(EMAIL.findall(text))
    found += [m.group(0) for m in SIGNED.finditer(text)]
    found += [s for s in secrets if s in text]
    found += [line for line in lines if line in text]
    return found


def test_pipeline_outreach_and_account_flows_log_no_personal_data(
    tmp_path, settings, logs, eager_celery, operator_client, operator, smtp_server, client
):
    from candidates.models import Candidate, Stage
    from organizations.models import Contact, Organization
    from outreach.models import OutreachMessage

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", smtp_server.port, 5
    settings.EMAIL_RATE_LIMIT = 10_000
    settings.EMAIL_WEBHOOK_VERIFIER, settings.EMAIL_WEBHOOK_SECRET = "hmac", WEBHOOK_SECRET
    output, raw = logs
    profile, upload = _cv(tmp_path)

    # The pipeline: upload → extraction → analysis → PDF → availability e-mail (SMTP).
    response = operator_client.post("/api/candidates/upload/", {"files": [upload]}, format="multipart")
    assert response.status_code == 202, response.content
    candidate = Candidate.objects.get(pk=response.json()["files"][0]["candidate_id"])
    assert candidate.processing_stage == Stage.DONE, (candidate.failure_code, candidate.ai_failure_reason)
    detail = operator_client.get(f"/api/candidates/{candidate.pk}/").json()
    signed_urls = [
        detail[k] for k in ("original_cv_url", "enhanced_cv_url", "profile_photo_url") if detail[k]
    ]
    assert detail["original_cv_url"] and detail["enhanced_cv_url"]

    # Outreach to two school contacts (SMTP), then a signed bounce for one of them.
    school = Organization.objects.create(name="Oakfield Primary", local_authority="Leeds", postcode="LS1 4AP")
    contacts = [
        Contact.objects.create(
            organization=school,
            contact_person=f"Head {n}",
            job_title="Headteacher",
            work_email=f"head{n}.private@oakfield.sch.uk",
        )
        for n in range(2)
    ]
    response = operator_client.post(
        f"/api/candidates/{candidate.pk}/send-to-contacts/",
        {"contact_ids": [str(c.pk) for c in contacts]},
        format="json",
    )
    assert response.status_code == 202, response.content
    sent = OutreachMessage.objects.filter(job_id=response.json()["task_id"], status="sent")
    assert sent.count() == 2
    bounce = [{"event": "bounce", "email": contacts[0].work_email, "timestamp": int(time.time()),
               "sg_event_id": "evt-1", "outreach_id": str(sent.first().pk)}]  # fmt: skip
    body = json.dumps(bounce).encode()
    response = client.post("/api/outreach/events/", body, content_type="application/json", **_sign(body))
    assert response.status_code == 200, response.content

    # Refused links are logged with their path: a tampered file link (local storage) and unsubscribe links.
    from outreach.unsubscribe import make_token

    for url in signed_urls:
        if "/api/files/" in url:
            path = url.split("://", 1)[1].split("/", 1)[1]
            assert client.get(f"/{path.rstrip('/')}x/").status_code == 403
    token = make_token(contacts[1].work_email)
    assert client.get(f"/api/outreach/unsubscribe/{token}/").status_code == 200
    assert client.get(f"/api/outreach/unsubscribe/{token[:-2]}xx/").status_code == 404

    # Account flows that handle addresses: a failed login and a password-reset code.
    assert client.post("/api/auth/login/", {"email": operator.email, "password": "wrong"}).status_code == 401
    assert client.post("/api/auth/forgot-password/", {"email": operator.email}).status_code == 200
    assert len(smtp_server.messages) >= 4  # availability, two outreach e-mails, the reset code

    text_lines = [line.strip() for line in candidate.extracted_text.splitlines() if len(line.strip()) >= 12]
    assert text_lines
    digits = re.sub(r"\D", "", profile.phone)
    secrets = [profile.email, profile.email.lower(), profile.phone, digits, profile.full_name, *signed_urls]
    secrets += [operator.email, *(c.work_email for c in contacts), token, token.split(":")[0]]

    logging.getLogger().handlers[0].flush()
    leaks = {"output": _personal_data(output.getvalue(), secrets, text_lines)}
    for record in raw.records:
        if record.name.split(".")[0] in OWN_LOGGERS:
            message = record.getMessage()
            if problems := _personal_data(message, secrets, text_lines):
                leaks.setdefault(record.name, []).extend(problems)
    assert output.getvalue(), "nothing was logged at INFO: the capture is not working"
    assert {k: v for k, v in leaks.items() if v} == {}
