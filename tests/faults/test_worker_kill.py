"""A worker SIGKILLed mid-batch: a replacement finishes the batch, nothing lost, no e-mail sent twice."""

import os
import signal

import pytest

from candidates.models import UNFINISHED_STAGES, Candidate
from outreach.models import OutboxMessage
from tests.conftest import start_celery_worker
from tests.faults.support import (
    assert_each_recipient_once,
    assert_final_and_counted,
    assert_one_availability_email_each,
    cv_files,
    upload,
    wait_for_done,
    wait_until_finished,
)

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
CVS = int(os.environ.get("FAULT_CVS", "200"))


@pytest.fixture
def fault_worker_env():
    """Workers whose killed deliveries come back within seconds, sending mail to the database outbox."""
    return {"BROKER_VISIBILITY_TIMEOUT": "12", "EMAIL_PROVIDER": "outbox"}


def test_worker_killed_mid_batch_loses_nothing_and_sends_no_email_twice(
    tmp_path, operator_client, django_db_setup, fault_worker_env
):
    worker = start_celery_worker(fault_worker_env, name="doomed", exclusive=True)
    try:
        batch_id = upload(operator_client, cv_files(tmp_path, CVS))
        wait_for_done(batch_id, 30)
        os.killpg(worker.proc.pid, signal.SIGKILL)  # the whole worker: main process and its pool
        worker.proc.wait()
        unfinished = Candidate.objects.filter(batch_id=batch_id, processing_stage__in=UNFINISHED_STAGES)
        assert unfinished.count() > 0, "the kill came too late to test anything"
    finally:
        worker.stop()
    replacement = start_celery_worker(fault_worker_env, name="replacement", exclusive=True, purge=False)
    try:
        wait_until_finished(batch_id, timeout=300, worker=replacement)
        candidates = assert_final_and_counted(operator_client, batch_id, CVS)
        # An e-mail caught mid-send has an unknown fate: its record is closed as interrupted (never re-sent) once
        # the send time limit (90 s) has passed.
        assert_one_availability_email_each(batch_id, candidates, timeout=150, interrupted=True)
    finally:
        replacement.stop()
    assert_each_recipient_once(address for message in OutboxMessage.objects.all() for address in message.to)
