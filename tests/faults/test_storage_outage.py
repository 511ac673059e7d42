"""Object storage (S3) goes down mid-batch: candidates hit by the outage retry and finish once it is back; when
it stays down longer than their retries they fail as ``storage_failed`` and the operator re-queues them."""

import hashlib
import time

import pytest
from django.core.files.storage import default_storage

from candidates.documents import original_key
from candidates.models import Stage
from outreach.models import OutboxMessage
from tests.candidates.factories import BatchFactory, CandidateFactory
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
from tests.testenv import SeaweedFS

pytestmark = [pytest.mark.faults, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
CVS = 20
OUTAGE_SECONDS = 5  # plus the restart: shorter than the first retries (extraction 8–12 s, rendering 12–18 s)


@pytest.fixture
def dedicated_s3(tmp_path, settings):
    """A SeaweedFS of this test's own, used by this process (the API's uploads) and by this test's worker, so
    stopping it affects nothing else."""
    from cvengine import storage

    server = SeaweedFS(tmp_path / "s3")
    endpoint = server.start()
    settings.STORAGE_ENDPOINT = settings.STORAGE_PUBLIC_ENDPOINT = endpoint
    default = settings.STORAGES["default"]
    options = {**default["OPTIONS"], "endpoint_url": endpoint}
    settings.STORAGES = {**settings.STORAGES, "default": {**default, "OPTIONS": options}}
    storage.ensure_bucket()
    yield server
    server.stop()


def _stored_batch(files) -> list:
    """A batch of queued candidates whose originals are stored (nothing enqueued yet)."""
    batch = BatchFactory(uploaded_count=len(files))
    candidates = []
    for upload_file in files:
        sha256 = hashlib.sha256(upload_file.read()).hexdigest()
        extension = upload_file.name.rsplit(".", 1)[-1]
        candidate = CandidateFactory.build(
            batch=batch,
            processing_stage=Stage.QUEUED,
            file_type=extension,
            file_sha256=sha256,
            original_filename=upload_file.name,
            email=None,
        )
        candidate.original_file = original_key(candidate.id, sha256, extension)
        default_storage.save(candidate.original_file, upload_file)
        candidate.save(force_insert=True)
        candidates.append(candidate)
    return candidates


def _extract_at_last_retry(candidates) -> None:
    """Enqueue their extraction on its last retry, as after ~70 s of outage (10 + 20 + 40 s of backoff): Celery's
    ``retries`` is set to ``max_retries`` instead of waiting for them. The rest is the worker's own doing."""
    from candidates.tasks import extract_cv

    for candidate in candidates:
        extract_cv.apply_async((str(candidate.id), str(candidate.run_id)), retries=extract_cv.max_retries)


def test_storage_down_then_back_and_down_for_good(tmp_path, operator_client, django_db_setup, dedicated_s3):
    endpoint = dedicated_s3.endpoint
    worker = start_celery_worker(
        {"STORAGE_ENDPOINT": endpoint, "STORAGE_PUBLIC_ENDPOINT": endpoint, "EMAIL_PROVIDER": "outbox"},
        name="storage-outage", exclusive=True,
    )  # fmt: skip
    try:
        # 1. Down for a few seconds mid-batch: every candidate it hits retries and finishes.
        batch_id = upload(operator_client, cv_files(tmp_path, CVS, first_seed=2000))
        wait_for_done(batch_id, 1)
        dedicated_s3.stop()
        time.sleep(OUTAGE_SECONDS)
        dedicated_s3.start()
        wait_until_finished(batch_id, timeout=120, worker=worker)
        candidates = assert_final_and_counted(operator_client, batch_id, CVS)  # all done: none failed
        assert_one_availability_email_each(batch_id, candidates)
        log = worker.log_path.read_text()
        assert "retry: Retry in" in log and "EndpointConnectionError" in log  # the outage did hit candidates

        # 2. Down for longer than the retries: storage_failed with the reason, then re-queued by the operator.
        stored = _stored_batch(cv_files(tmp_path, 2, first_seed=2100))
        lost_batch = str(stored[0].batch_id)
        dedicated_s3.stop()
        _extract_at_last_retry(stored)
        wait_until_finished(lost_batch, timeout=90, worker=worker)
        lost = assert_final_and_counted(operator_client, lost_batch, 2, failure_codes=("storage_failed",))
        assert {(c.failure_stage, c.ai_failure_reason) for c in lost} == {
            ("extracting", "Gave up after retries: EndpointConnectionError.")
        }
        dedicated_s3.start()
        response = operator_client.post(f"/api/candidates/batches/{lost_batch}/retry-failed/")
        assert response.status_code == 202 and response.json()["retried"] == 2
        wait_until_finished(lost_batch, timeout=60, worker=worker)
        recovered = assert_final_and_counted(operator_client, lost_batch, 2, completions=2)
        assert_one_availability_email_each(lost_batch, recovered)
    finally:
        worker.stop()
    assert all(c.ai_retry_count == 1 for c in recovered)
    assert_each_recipient_once(address for message in OutboxMessage.objects.all() for address in message.to)
