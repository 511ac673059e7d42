"""The availability e-mail to the candidate: exactly once, after the first enhanced PDF (pipeline.md §9)."""

import pytest
from django.db import transaction

from outreach import services
from outreach.models import CandidateEmail, Suppression

from .conftest import parse, parts

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _record(candidate):
    return CandidateEmail.objects.get(candidate=candidate, kind="availability")


def test_sent_once_with_templates_and_agency_settings(
    settings, candidate, smtp_settings, eager_celery, django_capture_on_commit_callbacks
):
    settings.EMAIL_SIGNATURE = "Warm regards,\nPriya, Candidate Team"
    with django_capture_on_commit_callbacks(execute=True):
        assert services.queue_availability_email(candidate) is True
    (envelope,) = smtp_settings.messages
    assert envelope.rcpt_tos == [candidate.email]
    message = parse(envelope)
    found = parts(message)
    assert message["Subject"] == settings.AVAILABILITY_EMAIL_SUBJECT
    assert message["From"] == "Agency Desk <desk@agency.example>"
    assert message["Reply-To"] == "replies@agency.example"
    assert message["List-Unsubscribe"].startswith("<https://cv.agency.example/api/outreach/unsubscribe/")
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = found["text/plain"]
    assert text.startswith("Hello Sarah,\n")
    for question in (
        "available for school roles",
        "start date",
        "full-time or part-time",
        "preferred locations",
    ):
        assert question in text and question in found["text/html"]
    assert "Warm regards,\nPriya, Candidate Team\nBright Futures Education\n0113 496 0000" in text
    assert "Warm regards,<br>Priya, Candidate Team<br>Bright Futures Education" in found["text/html"]
    assert found["attachments"] == {}  # no attachments

    record = _record(candidate)
    assert (
        record.status == "sent"
        and record.attempts == 1
        and record.provider_message_id == message["Message-ID"]
    )
    candidate.refresh_from_db()
    assert candidate.availability_email_sent_at == record.sent_at

    # Re-rendering, a rewrite or a retry calls it again: nothing more is queued or sent.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.queue_availability_email(candidate) is False
    from outreach.tasks import send_availability_email

    send_availability_email.delay(str(candidate.pk))  # a re-delivered task
    assert len(smtp_settings.messages) == 1
    assert CandidateEmail.objects.filter(candidate=candidate).count() == 1


def test_enqueued_only_when_the_callers_transaction_commits(
    candidate, django_capture_on_commit_callbacks, monkeypatch
):
    from outreach import tasks

    queued = []
    monkeypatch.setattr(tasks.send_availability_email, "delay", queued.append)
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        services.queue_availability_email(candidate)
        assert _record(candidate).status == "pending"  # inserted before anything is sent
    assert queued == [] and len(callbacks) == 1
    callbacks[0]()
    assert queued == [str(candidate.pk)]


def test_values_are_escaped_in_html(make_candidate, smtp_settings):
    candidate = make_candidate(name_without_surname="<b>Sam</b> & Co", name="")
    services.queue_availability_email(candidate)
    services.send_availability_email(candidate.pk)
    found = parts(parse(smtp_settings.messages[0]))
    assert (
        "Hello &lt;b&gt;Sam&lt;/b&gt; &amp; Co," in found["text/html"]
        and "<b>Sam</b>" not in found["text/html"]
    )
    assert found["text/plain"].startswith("Hello <b>Sam</b> & Co,")


def test_greeting_falls_back_to_first_name_token_then_there(make_candidate, smtp_settings):
    for fields, expected in (
        ({"name_without_surname": "", "name": "Amir Khan"}, "Hello Amir,"),
        ({"name_without_surname": "", "name": ""}, "Hello there,"),
    ):
        candidate = make_candidate(**fields)
        services.queue_availability_email(candidate)
        services.send_availability_email(candidate.pk)
        assert parts(parse(smtp_settings.messages[-1]))["text/plain"].startswith(expected)


def test_suppressed_address_is_not_emailed(candidate, smtp_settings):
    Suppression.objects.create(email=candidate.email.upper().lower(), reason="unsubscribe")
    services.queue_availability_email(candidate)
    services.send_availability_email(candidate.pk)
    assert smtp_settings.messages == []
    assert _record(candidate).status == "skipped_suppressed"


def test_not_queued_without_address_or_when_disabled(settings, make_candidate):
    assert services.queue_availability_email(make_candidate(email=None)) is False
    settings.AVAILABILITY_EMAIL_ENABLED = False
    assert services.queue_availability_email(make_candidate()) is False
    assert CandidateEmail.objects.count() == 0


def test_transient_failure_retried_then_sent_once(candidate, smtp_settings, smtp_outage):
    services.queue_availability_email(candidate)
    smtp_outage.begin()
    outcome = services.send_availability_email(candidate.pk, final_attempt=False)
    assert outcome.retry and "Mail server unavailable" in outcome.reason
    record = _record(candidate)
    assert record.status == "pending" and "Mail server unavailable" in record.error
    smtp_outage.end()
    assert services.send_availability_email(candidate.pk, final_attempt=False) == services.Outcome()
    assert services.send_availability_email(candidate.pk) == services.Outcome()
    assert len(smtp_settings.messages) == 1
    record = _record(candidate)
    assert record.status == "sent" and record.attempts == 2 and record.error == ""


def test_permanent_failure_stays_on_the_record_and_is_not_retried(make_candidate, picky_smtp):
    candidate = make_candidate(email="bounce.sarah@example.org")
    services.queue_availability_email(candidate)
    assert services.send_availability_email(candidate.pk, final_attempt=False) == services.Outcome()
    record = _record(candidate)
    assert record.status == "failed" and "550" in record.error
    assert services.send_availability_email(candidate.pk, final_attempt=False) == services.Outcome()
    assert _record(candidate).attempts == 1 and picky_smtp.envelopes == []
    candidate.refresh_from_db()
    assert candidate.availability_email_sent_at is None


def test_task_gives_up_after_three_retries(monkeypatch, candidate, smtp_outage, eager_celery):
    import cvengine.celery
    from outreach.tasks import send_availability_email

    delays = []
    monkeypatch.setattr(
        cvengine.celery, "backoff_seconds", lambda base, n, after=None: delays.append((base, n)) or 0
    )
    services.queue_availability_email(candidate)
    smtp_outage.begin()
    eager_celery.conf.task_eager_propagates = False
    send_availability_email.delay(str(candidate.pk))
    assert delays == [(60, 0), (60, 1), (60, 2)]
    record = _record(candidate)
    assert record.status == "failed" and record.attempts == 4 and "Gave up after 4 attempts" in record.error


def test_interrupted_send_is_never_repeated(candidate, smtp_settings):
    from datetime import timedelta

    from django.utils import timezone

    services.queue_availability_email(candidate)
    CandidateEmail.objects.filter(candidate=candidate).update(status="sending", attempts=1)
    assert services.send_availability_email(candidate.pk) == services.Outcome()  # maybe in flight: leave it
    assert _record(candidate).status == "sending"
    CandidateEmail.objects.filter(candidate=candidate).update(
        updated_at=timezone.now() - timedelta(minutes=5)
    )
    services.send_availability_email(candidate.pk)
    record = _record(candidate)
    assert record.status == "failed" and "not re-sent" in record.error
    assert smtp_settings.messages == []


def test_task_metadata():
    from outreach.tasks import send_availability_email, send_outreach

    assert (send_availability_email.queue, send_availability_email.max_retries) == ("email", 3)
    assert (send_availability_email.retry_base, send_availability_email.time_limit) == (60, 90)
    assert (send_outreach.queue, send_outreach.max_retries) == ("email", 3)
    assert (send_outreach.retry_base, send_outreach.time_limit) == (30, 1900)
    assert send_availability_email.acks_late and send_outreach.acks_late
