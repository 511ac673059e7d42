"""Send-to-contacts through anymail's SendGrid backend against a local fake of the SendGrid v3 API."""

import base64

import pytest

from outreach import services
from outreach.models import OutreachJob, OutreachMessage

from .conftest import PDF_BYTES

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _rows(job_id):
    return {r.contact_email: r for r in OutreachMessage.objects.filter(job_id=job_id)}


def _recipients(request):
    return [p["to"][0]["email"] for p in request.json()["personalizations"]]


def test_one_api_call_carries_every_recipient_with_personal_data(
    candidate, make_contacts, sendgrid, start_job
):
    contacts = make_contacts(4, people=["Ms Ada Lovelace", "Senco", "<i>Eve</i>", ""])
    from organizations.models import Contact

    Contact.objects.filter(pk=contacts[1].pk).update(is_role_mailbox=True)
    job_id = start_job(candidate, contacts)
    assert services.run_outreach_job(job_id) == services.Outcome()

    (request,) = sendgrid.requests  # one provider call for the whole job
    assert request.path == "/v3/mail/send"
    payload = request.json()
    assert payload["subject"] == candidate.email_subject
    assert payload["from"] == {"email": "desk@agency.example", "name": "Agency Desk"}
    assert payload["reply_to_list"] == [{"email": "replies@agency.example"}]
    assert payload["headers"] == {
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "X-Candidate-Id": str(candidate.pk),
    }
    (attachment,) = payload["attachments"]
    assert attachment["filename"] == "Sarah - CV.pdf" and base64.b64decode(attachment["content"]) == PDF_BYTES
    text, html = (c["value"] for c in payload["content"])
    assert [c["type"] for c in payload["content"]] == ["text/plain", "text/html"]
    assert text.startswith("%cve_greeting_text%\n\n" + candidate.email_body)
    assert "<p>%cve_greeting_html%</p>" in html and 'href="%cve_unsubscribe_url%"' in html

    rows = _rows(job_id)
    expected_greeting = {
        contacts[0].work_email: ("Dear Ms Ada Lovelace,", "Dear Ms Ada Lovelace,"),
        contacts[1].work_email: ("Dear Sir/Madam,", "Dear Sir/Madam,"),
        contacts[2].work_email: ("Dear <i>Eve</i>,", "Dear &lt;i&gt;Eve&lt;/i&gt;,"),
        contacts[3].work_email: ("Dear Sir/Madam,", "Dear Sir/Madam,"),
    }
    assert sorted(_recipients(request)) == sorted(expected_greeting)
    for personalization in payload["personalizations"]:
        address = personalization["to"][0]["email"]
        row = rows[address]
        subs = personalization["substitutions"]
        assert (subs["%cve_greeting_text%"], subs["%cve_greeting_html%"]) == expected_greeting[address]
        url = subs["%cve_unsubscribe_url%"]
        assert url.startswith("https://cv.agency.example/api/outreach/unsubscribe/")
        assert personalization["headers"] == {"List-Unsubscribe": f"<{url}>", "X-Outreach-Id": str(row.pk)}
        custom = personalization["custom_args"]
        assert custom["outreach_id"] == str(row.pk) and custom["candidate_id"] == str(candidate.pk)
        assert row.status == "sent" and row.provider_message_id == custom["anymail_id"]
    assert OutreachJob.objects.get(pk=job_id).status == "completed"
    candidate.refresh_from_db()
    assert candidate.contacts_emailed_count == 4


def test_batches_never_exceed_the_configured_size(settings, candidate, make_contacts, sendgrid, start_job):
    settings.OUTREACH_BATCH_SIZE = 2
    services.run_outreach_job(start_job(candidate, make_contacts(5)))
    assert [len(_recipients(r)) for r in sendgrid.requests] == [2, 2, 1]


def test_5xx_is_retried_without_duplicate_sends(settings, candidate, make_contacts, sendgrid, start_job):
    settings.OUTREACH_BATCH_SIZE = 2
    contacts = make_contacts(4)
    job_id = start_job(candidate, contacts)
    sendgrid.script.answers = [(202, {}, b""), (500, {}, {"errors": [{"message": "Internal error"}]})]

    outcome = services.run_outreach_job(job_id, final_attempt=False)
    assert outcome.retry and outcome.reason == "E-mail provider unavailable (HTTP 500): Internal error"
    first_batch = set(_recipients(sendgrid.requests[0]))
    rows = _rows(job_id)
    assert {a for a, r in rows.items() if r.status == "sent"} == first_batch
    assert {r.status for a, r in rows.items() if a not in first_batch} == {"queued"}

    assert services.run_outreach_job(job_id, final_attempt=False) == services.Outcome()
    retried = set(_recipients(sendgrid.requests[2]))
    assert retried == {c.work_email for c in contacts} - first_batch  # only the failed batch again
    assert len(sendgrid.requests) == 3
    rows = _rows(job_id)
    assert {r.status for r in rows.values()} == {"sent"}
    assert sorted(r.attempts for r in rows.values()) == [1, 1, 2, 2]


def test_429_retry_after_is_honoured_by_the_task(
    monkeypatch, candidate, make_contacts, sendgrid, start_job, eager_celery
):
    import cvengine.celery
    from outreach.tasks import send_outreach

    asked = []
    monkeypatch.setattr(
        cvengine.celery, "backoff_seconds", lambda base, n, after=None: asked.append(after) or 0
    )
    job_id = start_job(candidate, make_contacts(2))
    sendgrid.script.answers = [(429, {"Retry-After": "17"}, {"errors": [{"message": "Too many requests"}]})]
    eager_celery.conf.task_eager_propagates = False
    send_outreach.delay(job_id)
    assert asked == [17.0]
    assert len(sendgrid.requests) == 2
    assert {r.status for r in _rows(job_id).values()} == {"sent"}


def test_permanent_rejection_fails_each_contact_with_the_provider_reason(
    candidate, make_contacts, sendgrid, start_job
):
    job_id = start_job(candidate, make_contacts(2))
    message = "The from address does not match a verified Sender Identity."
    sendgrid.script.answers = [(403, {}, {"errors": [{"message": message}]})]
    assert services.run_outreach_job(job_id, final_attempt=False) == services.Outcome()  # no retry
    assert len(sendgrid.requests) == 1
    for row in _rows(job_id).values():
        assert (
            row.status == "failed" and row.error == f"Rejected by the e-mail provider (HTTP 403): {message}"
        )
    assert OutreachJob.objects.get(pk=job_id).status == "completed"


def test_provider_unreachable_until_the_last_retry(candidate, make_contacts, sendgrid, start_job, settings):
    job_id = start_job(candidate, make_contacts(2))
    settings.ANYMAIL = {
        **settings.ANYMAIL,
        "SENDGRID_API_URL": "http://127.0.0.1:9/v3/",
    }  # nothing listens there
    for _ in range(3):
        assert services.run_outreach_job(job_id, final_attempt=False).retry
    assert services.run_outreach_job(job_id, final_attempt=True) == services.Outcome()
    job = OutreachJob.objects.get(pk=job_id)
    assert job.status == "failed" and job.error.startswith("E-mail provider unreachable")
    for row in _rows(job_id).values():
        assert row.status == "failed" and row.attempts == 4
        assert row.error.endswith("Not sent after 3 retries.")
