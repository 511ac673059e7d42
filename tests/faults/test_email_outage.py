"""The SMTP server is down while availability e-mails and an outreach send are due, then comes back."""

import socket
import time

import pytest
from aiosmtpd.controller import Controller

from candidates.models import Candidate, Stage
from outreach.models import CandidateEmail, OutreachJob, OutreachMessage
from tests.conftest import start_celery_worker
from tests.faults.support import (
    assert_each_recipient_once,
    assert_final_and_counted,
    assert_one_availability_email_each,
    cv_files,
    upload,
    wait_until_finished,
)

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
CVS = 4
REFUSED = "Mail server unavailable (ConnectionRefusedError)."


class MailServer:
    """A real SMTP server on a fixed port that can be taken down and brought back; ``bounce*`` mailboxes are
    refused for good (550), every other message is recorded."""

    def __init__(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.envelopes, self.controller = [], None

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("bounce"):
            return "550 5.1.1 Mailbox does not exist"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def up(self):
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def down(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail_server():
    server = MailServer()
    yield server
    server.down()


def _wait(check, what: str, timeout: float):
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.3)


def _contacts(count: int):
    from organizations.models import Contact, Organization

    school = Organization.objects.create(name="Oakfield Primary School", postcode="LS1 1AA")
    addresses = [f"head{i}@oakfield.sch.uk" for i in range(count - 1)] + ["bounce@oakfield.sch.uk"]
    return Contact.objects.bulk_create(
        Contact(
            organization=school, contact_person=f"Teacher {i}", job_title="Headteacher", work_email=address
        )
        for i, address in enumerate(addresses)
    )


def test_smtp_down_then_back_every_email_sent_once_with_clear_per_contact_results(
    tmp_path, operator_client, django_db_setup, mail_server
):
    worker = start_celery_worker(
        {"EMAIL_PROVIDER": "smtp", "EMAIL_HOST": "127.0.0.1", "EMAIL_PORT": str(mail_server.port),
         "EMAIL_TIMEOUT": "5"},
        name="smtp-outage", exclusive=True,
    )  # fmt: skip
    try:
        batch_id = upload(operator_client, cv_files(tmp_path, CVS, first_seed=3000))  # the server is down
        wait_until_finished(batch_id, timeout=60, worker=worker)
        candidate = Candidate.objects.filter(batch_id=batch_id, processing_stage=Stage.DONE).first()
        contacts = _contacts(4)
        response = operator_client.post(
            f"/api/candidates/{candidate.pk}/send-to-contacts/",
            {"contact_ids": [str(c.pk) for c in contacts]},
            format="json",
        )
        assert response.status_code == 202, response.content
        poll_url = response.json()["poll_url"]
        # Every e-mail met the outage once: held back with the reason, none given up.
        availability = CandidateEmail.objects.filter(candidate__batch_id=batch_id)
        with_address = Candidate.objects.filter(batch_id=batch_id, email__isnull=False).count()
        _wait(
            lambda: availability.exclude(error="").count() == with_address, "availability e-mails tried", 30
        )
        job = OutreachJob.objects.filter(pk=response.json()["task_id"])
        rows = OutreachMessage.objects.filter(job__in=job)
        # The first pass stops at the first provider-wide failure and hands the job to its retry.
        _wait(lambda: job.filter(lease_until=None, status="processing").exists(), "outreach tried", 30)
        assert set(availability.values_list("status", "error")) == {("pending", REFUSED)}
        assert set(rows.values_list("status", flat=True)) == {"queued"}
        assert set(rows.values_list("error", flat=True)) <= {"", REFUSED}
        tried = set(rows.exclude(error="").values_list("pk", flat=True))
        assert tried
        assert operator_client.get(poll_url).json()["progress"] == {"done": 0, "total": 4}

        mail_server.up()
        _wait(lambda: operator_client.get(poll_url).json()["status"] == "completed", "outreach finished", 60)
        candidates = assert_final_and_counted(operator_client, batch_id, CVS)
        assert_one_availability_email_each(batch_id, candidates, timeout=90)
    finally:
        worker.stop()
    assert set(availability.values_list("attempts", flat=True)) == {2}
    body = operator_client.get(poll_url).json()
    assert (body["summary"]["sent"], body["summary"]["failed"]) == (3, 1)
    by_email = {result["email"]: result for result in body["results"]}
    assert by_email["bounce@oakfield.sch.uk"]["status"] == "failed"
    assert "Recipient refused by the mail server (550" in by_email["bounce@oakfield.sch.uk"]["error"]
    assert all(r["status"] == "sent" and r["message_id"] and not r["error"]
               for email, r in by_email.items() if email != "bounce@oakfield.sch.uk")  # fmt: skip
    for row in rows.filter(status="sent"):  # one attempt more for the contact tried during the outage
        assert row.attempts == (2 if row.pk in tried else 1)
    assert_each_recipient_once(address for envelope in mail_server.envelopes for address in envelope.rcpt_tos)
