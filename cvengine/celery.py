"""The Celery application: queues, routing, worker safety settings and the shared retry policy.

The same task code runs in both modes; only the broker URL differs (kombu ``filesystem://`` embedded, Redis or
RabbitMQ in production). Queues keep slow work apart: PDF rendering can never starve AI or e-mail work.
"""

import os
import random

from celery import Celery, Task
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvengine.settings")

QUEUES = ("default", "ai", "pdf", "email")
MAX_COUNTDOWN_SECONDS = 600  # long countdowns on Redis outlive the visibility timeout and get re-delivered


class TransientError(Exception):
    """A failure worth retrying (HTTP 429/5xx, a dependency briefly down). ``retry_after`` is honoured."""

    def __init__(self, message: str = "", retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def transient_errors() -> tuple[type[BaseException], ...]:
    """Exception types that mean 'try again later', never 'this input is bad'."""
    import botocore.exceptions
    import httpx
    from django.db import InterfaceError, OperationalError

    return (
        TransientError,
        ConnectionError,
        TimeoutError,
        OperationalError,
        InterfaceError,
        httpx.TransportError,
        botocore.exceptions.EndpointConnectionError,
        botocore.exceptions.ConnectTimeoutError,
        botocore.exceptions.ReadTimeoutError,
    )


# Object-storage answers that mean "try again" (S3 documents them as retryable): a restarting or overloaded
# server answers these for a while, and they say nothing about the file.
RETRYABLE_STORAGE_CODES = frozenset(
    {"InternalError", "ServiceUnavailable", "SlowDown", "RequestTimeout", "Throttling", "ThrottlingException"}
)


def is_transient(exc: BaseException) -> bool:
    """True for :func:`transient_errors` and for S3 errors answered with HTTP 5xx/429 or a retryable code."""
    if isinstance(exc, transient_errors()):
        return True
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return (
            status >= 500
            or status == 429
            or exc.response.get("Error", {}).get("Code") in RETRYABLE_STORAGE_CODES
        )
    return False


def backoff_seconds(base: float, retries: int, retry_after: float | None = None) -> float:
    """Exponential backoff (base × 2ⁿ) with ±20 % jitter, never below a server's Retry-After, capped."""
    delay = base * (2**retries) * random.uniform(0.8, 1.2)
    if retry_after:
        delay = max(delay, retry_after)
    return min(delay, MAX_COUNTDOWN_SECONDS)


class CVEngineTask(Task):
    """Base class of every task: transient errors are retried with :func:`backoff_seconds`.

    Tasks set ``retry_base`` (seconds) and ``max_retries``; anything else (a permanent error) fails at once.
    ``time_limit`` given on a task implies a soft limit 60 s earlier so the task can record why it stopped.
    When a task finally fails (retries used up, or an unexpected error) Celery calls its ``on_failure``: tasks
    that own an object record the failure there, so nothing is left unfinished without a reason.
    """

    retry_base = 10.0
    max_retries = 3
    acks_late = True
    reject_on_worker_lost = True

    def __init__(self):
        super().__init__()
        if self.time_limit and not self.soft_time_limit:
            self.soft_time_limit = max(self.time_limit - 60, self.time_limit // 2)

    def __call__(self, *args, **kwargs):
        try:
            return super().__call__(*args, **kwargs)
        except Exception as exc:
            if self.request.called_directly or not is_transient(exc):
                raise
            countdown = backoff_seconds(
                self.retry_base, self.request.retries, getattr(exc, "retry_after", None)
            )
            raise self.retry(exc=exc, countdown=countdown)


app = Celery("cvengine", task_cls=CVEngineTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.update(
    task_queues=[Queue(name) for name in QUEUES],
    task_default_queue="default",
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_serializer="json",
    result_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,  # state lives in our own tables; no result backend to run
    task_time_limit=1800,
    task_soft_time_limit=1740,
    worker_max_tasks_per_child=500,
    worker_hijack_root_logger=False,
    broker_connection_retry_on_startup=True,
    # A publish waits out a broker restart (~25 s) instead of failing after Celery's default 0.6 s: a stage task
    # has already committed its transition when it enqueues the next stage, so a failed publish would strand
    # the candidate until the stuck reaper (PROCESSING_STUCK_AFTER_SECONDS) and leave e-mails unqueued.
    task_publish_retry_policy={
        "max_retries": 15,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 2,
    },
    timezone="Europe/London",
    # Static schedule (django-celery-beat would pin Django < 6.1). Every periodic job is listed here.
    beat_schedule={
        "candidates.reap_stuck_candidates": {
            "task": "candidates.reap_stuck_candidates",
            "schedule": 300.0,
            "options": {"queue": "default"},
        },
        "accounts.purge_activity": {
            "task": "accounts.purge_activity",
            "schedule": 24 * 3600.0,
            "options": {"queue": "default"},
        },
        "accounts.purge_password_resets": {
            "task": "accounts.purge_password_resets",
            "schedule": 3600.0,
            "options": {"queue": "default"},
        },
        "organizations.purge_import_files": {
            "task": "organizations.purge_import_files",
            "schedule": 24 * 3600.0,
            "options": {"queue": "default"},
        },
    },
)
app.autodiscover_tasks()
