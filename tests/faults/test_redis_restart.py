"""The broker's Redis crashes mid-batch and comes back: every candidate still finishes, counted once, and every
availability e-mail is sent exactly once.

A dedicated ``redis-server`` (never the shared one other runs use), persisted as a production broker should be:
append-only with ``appendfsync always``, so every message Redis accepted survives the SIGKILL. Both this test's
worker and this process's Celery app (through which the upload API enqueues) are pointed at it.
"""

import time

import pytest

from candidates.models import UNFINISHED_STAGES, Candidate
from outreach.models import OutboxMessage
from tests.conftest import start_celery_worker
from tests.faults.redis_server import broker_of_this_process, redis_server
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
CVS = 40
DOWN_SECONDS = 3  # plus the restart; within the publish retry window (~25 s) of cvengine.celery


def test_redis_crash_and_restart_mid_batch_loses_nothing(tmp_path, operator_client, django_db_setup):
    files = cv_files(tmp_path, CVS, first_seed=1000)
    with redis_server(tmp_path) as redis, broker_of_this_process(redis.url):
        worker = start_celery_worker(
            {"CELERY_BROKER_URL": redis.url, "BROKER_VISIBILITY_TIMEOUT": "12", "EMAIL_PROVIDER": "outbox"},
            name="redis-restart",
        )  # alone on its broker: no other worker to pause, nothing else to purge
        try:
            batch_id = upload(operator_client, files)
            wait_for_done(batch_id, 5)
            redis.kill()
            unfinished = Candidate.objects.filter(batch_id=batch_id, processing_stage__in=UNFINISHED_STAGES)
            assert unfinished.exists(), "the crash came too late to test anything"
            time.sleep(DOWN_SECONDS)
            redis.start()
            wait_until_finished(batch_id, timeout=120, worker=worker)
            candidates = assert_final_and_counted(operator_client, batch_id, CVS)  # all done: none failed
            assert_one_availability_email_each(batch_id, candidates)
        finally:
            worker.stop()
    assert "Connection to broker lost" in worker.log_path.read_text()
    assert_each_recipient_once(address for message in OutboxMessage.objects.all() for address in message.to)
