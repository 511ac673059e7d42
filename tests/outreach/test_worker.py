"""send_outreach and send_availability_email through a real Celery worker process (Redis broker, test database)."""

import time

import pytest

from outreach.models import CandidateEmail, OutreachJob, OutreachMessage

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def _wait(check, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError("the worker did not finish in time")


def test_send_outreach_runs_in_a_real_worker(celery_worker, operator_client, candidate, make_contacts):
    contacts = make_contacts(3)
    response = operator_client.post(
        f"/api/candidates/{candidate.pk}/send-to-contacts/",
        {"contact_ids": [str(c.pk) for c in contacts]},
        format="json",
    )
    assert response.status_code == 202
    poll_url = response.json()["poll_url"]
    _wait(lambda: operator_client.get(poll_url).json()["status"] in ("completed", "failed"))

    body = operator_client.get(poll_url).json()
    assert body["status"] == "completed", body
    assert body["summary"]["sent"] == 3 and body["summary"]["total"] == 3
    job = OutreachJob.objects.get(pk=response.json()["task_id"])
    assert job.lease_until is None and job.finished_at is not None
    assert set(OutreachMessage.objects.filter(job=job).values_list("status", flat=True)) == {"sent"}
    candidate.refresh_from_db()
    assert candidate.contacts_emailed_count == 3 and candidate.last_contacted_at is not None


def test_availability_email_runs_in_a_real_worker(celery_worker, candidate):
    from outreach import services

    assert services.queue_availability_email(candidate)  # autocommit: enqueued at once
    _wait(lambda: CandidateEmail.objects.get(candidate=candidate).status not in ("pending", "sending"))
    record = CandidateEmail.objects.get(candidate=candidate)
    assert record.status == "sent" and record.attempts == 1, record.error
    candidate.refresh_from_db()
    assert candidate.availability_email_sent_at == record.sent_at
