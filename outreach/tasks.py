"""E-mail tasks (queue ``email``): thin wrappers around outreach.services; retries follow pipeline.md §12."""

from celery import shared_task

from cvengine.celery import TransientError

from . import services


def _final(task) -> bool:
    return task.request.retries >= task.max_retries


@shared_task(
    bind=True,
    name="outreach.send_availability_email",
    queue="email",
    retry_base=60,
    max_retries=3,
    time_limit=services.AVAILABILITY_TIME_LIMIT,
)
def send_availability_email(self, candidate_id: str) -> None:
    """The candidate's one availability e-mail; guarded by its unique (candidate, kind) record."""
    outcome = services.send_availability_email(candidate_id, final_attempt=_final(self))
    if outcome.retry:
        raise TransientError(outcome.reason, retry_after=outcome.retry_after)


@shared_task(
    bind=True,
    name="outreach.send_outreach",
    queue="email",
    retry_base=30,
    max_retries=services.MESSAGE_RETRIES,
    time_limit=services.OUTREACH_TIME_LIMIT,
)
def send_outreach(self, job_id: str) -> None:
    """One pass over an outreach job; contacts hit by a transient error are retried in the next pass."""
    outcome = services.run_outreach_job(job_id, final_attempt=_final(self))
    if outcome.retry:
        raise TransientError(outcome.reason, retry_after=outcome.retry_after)
