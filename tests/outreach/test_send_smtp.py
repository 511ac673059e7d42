"""Send-to-contacts over SMTP against a real SMTP server: content, headers, attachment, retries, no duplicates."""

import re
import time

import pytest

from outreach import services
from outreach.models import OutreachJob, OutreachMessage, Suppression

from .conftest import PDF_BYTES, parse, parts

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _rows(job_id):
    return {r.contact_email: r for r in OutreachMessage.objects.filter(job_id=job_id)}


def test_api_send_delivers_personal_multipart_messages_with_the_enhanced_cv(
    operator_client,
    candidate,
    make_contacts,
    smtp_settings,
    eager_celery,
    django_capture_on_commit_callbacks,
    activity,
):
    from organizations.models import Contact

    people = make_contacts(2, people=["Mrs Ada Lovelace", "<b>Bob</b> & Co"])
    role = make_contacts(1, people=["Senco"], job_title="SENCO")  # person equals job title: a role mailbox
    nameless = make_contacts(1, people=[""])
    contacts = [*people, *role, *nameless]
    body = "Sarah teaches <KS1> & KS2.\nShe is available now.\n\nReferences on request."
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(
            f"/api/candidates/{candidate.pk}/send-to-contacts/",
            {"contact_ids": [str(c.pk) for c in contacts], "body": body},
            format="json",
        )
    assert response.status_code == 202, response.content
    data = response.json()
    assert data["contact_count"] == 4 and data["to_send"] == 4 and data["not_found"] == 0
    assert data["poll_url"] == f"/api/candidates/send-status/{data['task_id']}/"

    received = {env.rcpt_tos[0]: parse(env) for env in smtp_settings.messages}
    assert sorted(received) == sorted(c.work_email for c in contacts)
    greetings = {
        people[0].work_email: "Dear Mrs Ada Lovelace,",
        people[1].work_email: "Dear <b>Bob</b> & Co,",
        role[0].work_email: "Dear Sir/Madam,",
        nameless[0].work_email: "Dear Sir/Madam,",
    }
    rows = _rows(data["task_id"])
    for address, message in received.items():
        found = parts(message)
        assert message["Subject"] == candidate.email_subject
        assert message["Reply-To"] == "replies@agency.example"
        assert message.get_content_type() == "multipart/mixed"
        assert found["text/plain"].startswith(greetings[address] + "\n\n" + body)
        assert "If this candidate could help your school" in found["text/plain"]
        assert "Bright Futures Education" in found["text/plain"]
        # HTML: everything escaped, line breaks kept.
        html = found["text/html"]
        assert "Sarah teaches &lt;KS1&gt; &amp; KS2.<br>She is available now.</p>" in html
        assert "<b>Bob</b>" not in html
        if address == people[1].work_email:
            assert "Dear &lt;b&gt;Bob&lt;/b&gt; &amp; Co," in html
        # Only the enhanced CV, under the candidate's given name.
        assert found["attachments"] == {"Sarah - CV.pdf": PDF_BYTES}
        # One-click unsubscribe (RFC 8058), absolute, also in the footer.
        url = re.fullmatch(
            r"<(https://cv\.agency\.example/api/outreach/unsubscribe/[^/]+/)>", message["List-Unsubscribe"]
        )
        assert url and message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert url.group(1) in found["text/plain"] and url.group(1) in html
        assert message["X-Outreach-Id"] == str(rows[address].pk)
        assert message["X-Candidate-Id"] == str(candidate.pk)
        assert rows[address].status == "sent" and rows[address].provider_message_id == message["Message-ID"]
        assert rows[address].attempts == 1 and rows[address].sent_at is not None

    job = OutreachJob.objects.get(pk=data["task_id"])
    assert job.status == "completed" and job.finished_at
    candidate.refresh_from_db()
    assert candidate.contacts_emailed_count == 4
    assert candidate.last_contacted_at == max(r.sent_at for r in rows.values())
    (entry,) = activity.of("emails_sent")
    assert entry["candidate_id"] == candidate.pk and entry["severity"] == "success"
    assert entry["message"].startswith("4 sent, 0 failed")
    assert Contact.objects.count() == 4


def test_connection_reused_for_at_most_the_configured_number_of_messages(
    settings, candidate, make_contacts, picky_smtp, start_job
):
    settings.OUTREACH_MESSAGES_PER_CONNECTION = 2
    job_id = start_job(candidate, make_contacts(5))
    assert services.run_outreach_job(job_id) == services.Outcome()
    assert len(picky_smtp.envelopes) == 5
    per_connection = [len(list(group)) for _, group in __import__("itertools").groupby(picky_smtp.sessions)]
    assert per_connection == [2, 2, 1]


def test_sending_is_paced_at_email_rate_limit(settings, candidate, make_contacts, smtp_settings, start_job):
    settings.EMAIL_RATE_LIMIT = 10
    job_id = start_job(candidate, make_contacts(4))
    started = time.monotonic()
    services.run_outreach_job(job_id)
    assert time.monotonic() - started >= 0.3  # 4 messages at 10/s: three 0.1 s gaps
    assert len(smtp_settings.messages) == 4


def test_server_down_then_back_sends_each_message_exactly_once(
    candidate, make_contacts, smtp_settings, smtp_outage, start_job
):
    contacts = make_contacts(3)
    job_id = start_job(candidate, contacts)
    smtp_outage.begin()  # the mail server is down

    outcome = services.run_outreach_job(job_id, final_attempt=False)
    assert outcome.retry and "Mail server unavailable" in outcome.reason
    rows = _rows(job_id)
    assert {r.status for r in rows.values()} == {"queued"}
    assert OutreachJob.objects.get(pk=job_id).lease_until is None  # the retry may claim it

    smtp_outage.end()
    assert services.run_outreach_job(job_id, final_attempt=False) == services.Outcome()
    assert services.run_outreach_job(job_id) == services.Outcome()  # a re-delivered task: nothing to do
    assert sorted(e.rcpt_tos[0] for e in smtp_settings.messages) == sorted(c.work_email for c in contacts)
    rows = _rows(job_id)
    assert {r.status for r in rows.values()} == {"sent"}
    assert OutreachJob.objects.get(pk=job_id).status == "completed"


def test_provider_down_for_every_retry_fails_each_contact_with_a_clear_reason(
    monkeypatch, candidate, make_contacts, smtp_outage, eager_celery, operator, activity
):
    import cvengine.celery

    delays = []
    monkeypatch.setattr(
        cvengine.celery, "backoff_seconds", lambda base, n, after=None: delays.append((base, n)) or 0
    )
    contacts = make_contacts(2)
    job_id = services.start_outreach(
        candidate,
        contact_ids_raw=[str(c.pk) for c in contacts],
        subject="",
        body="",
        force=False,
        user=operator,
    )["task_id"]
    smtp_outage.begin()
    from outreach.tasks import send_outreach

    eager_celery.conf.task_eager_propagates = False  # let eager apply() run the retries inline
    send_outreach.delay(job_id)
    assert delays == [(30, 0), (30, 1), (30, 2)]  # three retries of the pass, exponential from 30 s
    job = OutreachJob.objects.get(pk=job_id)
    assert job.status == "failed" and "Mail server unavailable" in job.error
    for row in _rows(job_id).values():
        assert row.status == "failed"
        assert row.error == "Mail server unavailable (ConnectionRefusedError). Not sent after 3 retries."
    assert activity.of("emails_sent")[0]["severity"] == "error"


def test_recipient_refusals_permanent_fails_temporary_is_retried(
    candidate, make_contacts, picky_smtp, start_job
):
    from organizations.models import Contact

    contacts = make_contacts(3)
    Contact.objects.filter(pk=contacts[0].pk).update(work_email="bounce@school.sch.uk")
    Contact.objects.filter(pk=contacts[1].pk).update(work_email="grey@school.sch.uk")
    job_id = start_job(candidate, contacts)

    first = services.run_outreach_job(job_id, final_attempt=False)
    assert first.retry and "451" in first.reason
    rows = _rows(job_id)
    assert rows["bounce@school.sch.uk"].status == "failed"
    assert (
        "550" in rows["bounce@school.sch.uk"].error
        and "Recipient refused" in rows["bounce@school.sch.uk"].error
    )
    assert rows["grey@school.sch.uk"].status == "queued" and rows[contacts[2].work_email].status == "sent"

    assert services.run_outreach_job(job_id, final_attempt=False) == services.Outcome()
    rows = _rows(job_id)
    assert rows["grey@school.sch.uk"].status == "sent" and rows["grey@school.sch.uk"].attempts == 2
    delivered = [e.rcpt_tos for e in picky_smtp.envelopes]
    assert sorted(delivered) == sorted([["grey@school.sch.uk"], [contacts[2].work_email]])  # once each


def test_redelivered_job_skips_sent_rows_and_never_resends_an_interrupted_one(
    candidate, make_contacts, smtp_settings, start_job
):
    contacts = make_contacts(3)
    job_id = start_job(candidate, contacts)
    # A worker died after handing contact 0 to the server (row "sending") and after sending contact 1.
    OutreachJob.objects.filter(pk=job_id).update(status="processing")
    OutreachMessage.objects.filter(job_id=job_id, contact=contacts[0]).update(status="sending", attempts=1)
    OutreachMessage.objects.filter(job_id=job_id, contact=contacts[1]).update(
        status="sent", provider_message_id="x"
    )

    services.run_outreach_job(job_id)
    assert [e.rcpt_tos for e in smtp_settings.messages] == [[contacts[2].work_email]]
    rows = _rows(job_id)
    assert (
        rows[contacts[0].work_email].status == "failed"
        and "not re-sent" in rows[contacts[0].work_email].error
    )
    assert rows[contacts[1].work_email].status == "sent"


def test_job_held_by_another_worker_is_not_processed_twice(
    candidate, make_contacts, smtp_settings, start_job
):
    from datetime import timedelta

    from django.utils import timezone

    job_id = start_job(candidate, make_contacts(2))
    OutreachJob.objects.filter(pk=job_id).update(
        status="processing", lease_until=timezone.now() + timedelta(minutes=5)
    )
    assert services.run_outreach_job(job_id) == services.Outcome()
    assert smtp_settings.messages == []


def test_already_sent_contacts_skipped_unless_force_and_suppression_wins(
    candidate, make_contacts, smtp_settings, start_job
):
    contacts = make_contacts(3)
    services.run_outreach_job(start_job(candidate, contacts[:2]))
    Suppression.objects.create(email=contacts[1].work_email, reason="manual")

    second = start_job(candidate, contacts)
    services.run_outreach_job(second)
    rows = _rows(second)
    assert rows[contacts[0].work_email].status == "skipped_already_sent"
    assert rows[contacts[1].work_email].status == "skipped_suppressed"
    assert rows[contacts[2].work_email].status == "sent"

    forced = start_job(candidate, contacts, force=True)
    services.run_outreach_job(forced)
    rows = _rows(forced)
    assert rows[contacts[0].work_email].status == "sent"
    assert rows[contacts[1].work_email].status == "skipped_suppressed"  # suppression wins over force
    sent_to = [e.rcpt_tos[0] for e in smtp_settings.messages]
    assert sent_to.count(contacts[0].work_email) == 2 and contacts[1].work_email in sent_to[:2]
    assert sent_to.count(contacts[1].work_email) == 1
    candidate.refresh_from_db()
    assert candidate.contacts_emailed_count == 3  # distinct contacts, not sends


def test_header_injection_is_impossible(candidate, make_contacts, smtp_settings, start_job):
    from candidates.models import Candidate

    Candidate.objects.filter(pk=candidate.pk).update(
        email_subject="Teacher available\r\nBcc: thief@evil.example"
    )
    candidate.refresh_from_db()
    (contact,) = make_contacts(1, people=["Ann\r\nBcc: thief@evil.example"])
    services.run_outreach_job(start_job(candidate, [contact]))
    (envelope,) = smtp_settings.messages
    assert envelope.rcpt_tos == [contact.work_email]
    message = parse(envelope)
    assert message["Bcc"] is None
    assert message["Subject"] == "Teacher available Bcc: thief@evil.example"
    assert parts(message)["text/plain"].startswith("Dear Ann Bcc: thief@evil.example,")


def test_photo_attached_only_when_enabled(settings, make_candidate, make_contacts, smtp_settings, start_job):
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    photo = default_storage.save("candidates/photos/x/p.jpg", ContentFile(b"\xff\xd8\xff photo"))
    candidate = make_candidate(profile_photo=photo, original_file="candidates/originals/x.docx")
    services.run_outreach_job(start_job(candidate, make_contacts(1)))
    settings.OUTREACH_ATTACH_PHOTO = True
    services.run_outreach_job(start_job(candidate, make_contacts(1)))
    first, second = (parts(parse(e))["attachments"] for e in smtp_settings.messages)
    assert list(first) == ["Sarah - CV.pdf"]
    assert list(second) == ["Sarah - CV.pdf", "Sarah - photo.jpg"]


def test_missing_cv_file_fails_the_job_clearly(candidate, make_contacts, smtp_settings, start_job):
    from django.core.files.storage import default_storage

    job_id = start_job(candidate, make_contacts(2))
    default_storage.delete(candidate.enhanced_cv)
    services.run_outreach_job(job_id)
    job = OutreachJob.objects.get(pk=job_id)
    assert job.status == "failed" and "enhanced CV file is missing" in job.error
    assert {r.status for r in _rows(job_id).values()} == {"failed"}
    assert smtp_settings.messages == []
