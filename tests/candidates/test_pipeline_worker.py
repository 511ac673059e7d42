"""The pipeline through a real Celery worker on Redis: a normal batch. (A worker SIGKILLed mid-batch, and the
other outages, are the fault suite: tests/faults, ``make faults``.)"""

import time

import pytest

from candidates.models import Stage
from outreach.models import CandidateEmail
from tests.faults.support import assert_final_and_counted, cv_files, upload, wait_until_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_batch_is_processed_by_a_real_worker(tmp_path, operator_client, celery_worker):
    batch_id = upload(operator_client, cv_files(tmp_path, 6))
    wait_until_finished(batch_id, timeout=120)
    candidates = assert_final_and_counted(operator_client, batch_id, 6)
    with_email = [c for c in candidates if c.email and c.processing_stage == Stage.DONE]
    deadline = time.monotonic() + 30
    while (
        CandidateEmail.objects.filter(status="sent").count() < len(with_email) and time.monotonic() < deadline
    ):
        time.sleep(0.3)
    assert CandidateEmail.objects.filter(status="sent").count() == len(with_email)
