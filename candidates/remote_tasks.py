"""Celery tasks of remote analysis (pipeline.md §12): thin wrappers over candidates/remote.py.

Registered when this module is imported; ``candidates/tasks.py`` imports it so that autodiscovery finds them.
"""

from celery import shared_task

from . import pipeline, remote
from .models import Stage


def _submit_failed(self, exc, task_id, args, kwargs, einfo):
    pipeline.fail_after_error(Stage.ANALYSING, *args[:2], exc)


def _poll_failed(self, exc, task_id, args, kwargs, einfo):
    remote.poll_failed(*args[:3], exc)


@shared_task(
    name="candidates.submit_remote", queue="ai", retry_base=15, max_retries=4, time_limit=90,
    on_failure=_submit_failed,
)  # fmt: skip
def submit_remote(candidate_id: str, run_id: str) -> None:
    remote.send(candidate_id, run_id)


@shared_task(
    name="candidates.poll_remote", queue="ai", retry_base=10, max_retries=4, time_limit=90,
    on_failure=_poll_failed,
)  # fmt: skip
def poll_remote(candidate_id: str, run_id: str, remote_task_id: str, deadline: float) -> None:
    remote.poll(candidate_id, run_id, remote_task_id, deadline)
