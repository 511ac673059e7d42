"""The pipeline through real Celery workers on Redis: a normal batch, and a worker SIGKILLed mid-batch."""

import os
import signal
import time
from collections import Counter
from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from candidates.models import UNFINISHED_STAGES, Candidate, Stage
from outreach.models import CandidateEmail, OutboxMessage
from tests.conftest import start_celery_worker
from tests.cvgen.layouts import render as render_cv
from tests.cvgen.profile import make_profile

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
LAYOUTS = ("txt", "docx_table", "docx_header", "odt", "rtf", "pdf_two_column")


def _files(tmp_path, count: int, first_seed: int = 0):
    today = date.today()
    files = []
    for seed in range(first_seed, first_seed + count):
        layout = LAYOUTS[seed % len(LAYOUTS)]
        path = render_cv(make_profile(5000 + seed, today, layout), tmp_path / f"cv{seed}", layout)
        files.append(SimpleUploadedFile(path.name, path.read_bytes()))
    return files


def _wait_until_finished(batch_id, timeout: float, worker=None) -> None:
    deadline = time.monotonic() + timeout
    while Candidate.objects.filter(batch_id=batch_id, processing_stage__in=UNFINISHED_STAGES).exists():
        stages = Counter(
            Candidate.objects.filter(batch_id=batch_id).values_list("processing_stage", flat=True)
        )
        log = worker.log_path.read_text()[-3000:] if worker else ""
        assert time.monotonic() < deadline, f"{stages}\n{log}"
        time.sleep(0.5)


def _assert_final_and_counted(operator_client, batch_id, expected_total: int):
    candidates = list(Candidate.objects.filter(batch_id=batch_id))
    assert len(candidates) == expected_total
    for candidate in candidates:
        assert candidate.processing_stage in (Stage.DONE, Stage.FAILED)
        if candidate.processing_stage == Stage.FAILED:
            assert candidate.failure_code and candidate.ai_failure_reason and candidate.failure_stage
        else:
            assert candidate.enhanced_cv
    batch = operator_client.get(f"/api/candidates/batches/{batch_id}/").json()
    done = sum(c.processing_stage == Stage.DONE for c in candidates)
    failed = expected_total - done
    assert (batch["total_count"], batch["processed_count"], batch["failed_count"]) == (
        expected_total,
        done,
        failed,
    )
    assert batch["progress_percentage"] == 100
    assert batch["status"] == ("completed_with_errors" if failed else "completed")
    return candidates


def _upload(operator_client, files):
    response = operator_client.post("/api/candidates/upload/", {"files": files}, format="multipart")
    assert response.status_code == 202, response.content
    return response.json()["batch"]["id"]


def test_a_batch_is_processed_by_a_real_worker(tmp_path, operator_client, celery_worker):
    batch_id = _upload(operator_client, _files(tmp_path, 6))
    _wait_until_finished(batch_id, timeout=120)
    candidates = _assert_final_and_counted(operator_client, batch_id, 6)
    with_email = [c for c in candidates if c.email and c.processing_stage == Stage.DONE]
    deadline = time.monotonic() + 30
    while (
        CandidateEmail.objects.filter(status="sent").count() < len(with_email) and time.monotonic() < deadline
    ):
        time.sleep(0.3)
    assert CandidateEmail.objects.filter(status="sent").count() == len(with_email)


@pytest.fixture
def fault_worker_env():
    """Workers whose killed deliveries come back within seconds, sending mail to the database outbox."""
    return {"BROKER_VISIBILITY_TIMEOUT": "12", "EMAIL_PROVIDER": "outbox"}


def test_worker_killed_mid_batch_loses_nothing_and_sends_no_email_twice(
    tmp_path, operator_client, django_db_setup, fault_worker_env
):
    worker = start_celery_worker(fault_worker_env, name="doomed", exclusive=True)
    try:
        batch_id = _upload(operator_client, _files(tmp_path, int(os.environ.get("FAULT_CVS", "200"))))
        deadline = time.monotonic() + 120
        while Candidate.objects.filter(batch_id=batch_id, processing_stage=Stage.DONE).count() < 30:
            assert time.monotonic() < deadline, "the worker made no progress"
            time.sleep(0.2)
        os.killpg(worker.proc.pid, signal.SIGKILL)  # the whole worker: main process and its pool
        worker.proc.wait()
        unfinished = Candidate.objects.filter(
            batch_id=batch_id, processing_stage__in=UNFINISHED_STAGES
        ).count()
        assert unfinished > 0, "the kill came too late to test anything"
    finally:
        worker.stop()
    replacement = start_celery_worker(fault_worker_env, name="replacement", exclusive=True, purge=False)
    try:
        _wait_until_finished(batch_id, timeout=300, worker=replacement)
    finally:
        replacement.stop()
    candidates = _assert_final_and_counted(operator_client, batch_id, int(os.environ.get("FAULT_CVS", "200")))
    per_recipient = Counter(address for message in OutboxMessage.objects.all() for address in message.to)
    assert per_recipient and max(per_recipient.values()) == 1, per_recipient.most_common(3)
    assert CandidateEmail.objects.filter(candidate__batch_id=batch_id).count() <= sum(
        1 for c in candidates if c.email
    )
