import time
import uuid

import pytest
from celery.exceptions import Retry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from cvengine.celery import MAX_COUNTDOWN_SECONDS, QUEUES, TransientError, app, backoff_seconds
from cvengine.tasks import cleanup_files


def test_queues_and_worker_safety_settings():
    conf = app.conf
    assert [q.name for q in conf.task_queues] == list(QUEUES) == ["default", "ai", "pdf", "email"]
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_always_eager is False
    assert conf.broker_transport_options["visibility_timeout"] == 7200


def test_cleanup_task_routes_to_default_queue_with_limits():
    assert cleanup_files.queue == "default"
    assert cleanup_files.time_limit == 300 and cleanup_files.soft_time_limit == 240
    assert cleanup_files.max_retries == 5


@pytest.mark.parametrize("retries", range(8))
def test_backoff_doubles_with_twenty_percent_jitter_and_cap(retries):
    for _ in range(50):
        delay = backoff_seconds(10, retries)
        expected = 10 * 2**retries
        assert (
            min(expected * 0.8, MAX_COUNTDOWN_SECONDS) <= delay <= min(expected * 1.2, MAX_COUNTDOWN_SECONDS)
        )


def test_backoff_honours_retry_after():
    assert backoff_seconds(1, 0, retry_after=120) >= 120
    assert backoff_seconds(1, 0, retry_after=10_000) == MAX_COUNTDOWN_SECONDS


def _task_raising(exc, **options):
    @app.task(name=f"tests.raises_{uuid.uuid4().hex}", **options)
    def task():
        raise exc

    return task


def _run_as_worker(task, monkeypatch, retries=0):
    """Call the task as a worker would (not directly), recording what it asks ``retry`` for."""
    recorded = {}

    def fake_retry(exc=None, countdown=None, **kwargs):
        recorded.update(exc=exc, countdown=countdown)
        raise Retry(exc=exc, when=countdown)

    monkeypatch.setattr(task, "retry", fake_retry)
    task.push_request(called_directly=False, retries=retries, is_eager=False)
    try:
        task()
    finally:
        task.pop_request()
    return recorded


def test_retry_countdown_follows_policy_and_retry_after(monkeypatch):
    task = _task_raising(TransientError("rate limited", retry_after=90), retry_base=10, max_retries=3)
    seen = {}

    def fake_retry(exc=None, countdown=None, **kwargs):
        seen.update(exc=exc, countdown=countdown)
        raise Retry(exc=exc, when=countdown)

    monkeypatch.setattr(task, "retry", fake_retry)
    for retries, low in ((0, 90), (4, 128)):  # max(base*2^n*0.8, Retry-After)
        task.push_request(called_directly=False, retries=retries)
        with pytest.raises(Retry):
            task()
        task.pop_request()
        assert isinstance(seen["exc"], TransientError)
        assert low <= seen["countdown"] <= max(10 * 2**retries * 1.2, 90)


@pytest.mark.parametrize("error", [ConnectionError("refused"), TimeoutError("slow")])
def test_network_errors_count_as_transient(monkeypatch, error):
    task = _task_raising(error, retry_base=1, max_retries=3)
    with pytest.raises(Retry):
        _run_as_worker(task, monkeypatch)


def test_permanent_error_fails_at_once(monkeypatch):
    task = _task_raising(ValueError("corrupt file"), retry_base=1, max_retries=3)
    with pytest.raises(ValueError, match="corrupt file"):
        _run_as_worker(task, monkeypatch)


def test_direct_calls_raise_instead_of_retrying():
    task = _task_raising(TransientError("busy"), retry_base=1, max_retries=3)
    with pytest.raises(TransientError):
        task()


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_runs_a_task_from_the_broker(celery_worker):
    """End to end: Redis broker → separate worker process → S3 storage."""
    name = default_storage.save(f"tests/worker/{uuid.uuid4().hex}.txt", ContentFile(b"bye"))
    assert default_storage.exists(name)
    cleanup_files.delay([name, "tests/worker/never-existed.txt"])
    deadline = time.monotonic() + 30
    while default_storage.exists(name) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not default_storage.exists(name), celery_worker.log_path.read_text()[-2000:]
