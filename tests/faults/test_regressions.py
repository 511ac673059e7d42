"""What the fault scenarios found, pinned down deterministically (no worker process, no outage to time)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from candidates import pipeline
from candidates.models import Stage
from outreach import services
from outreach.models import CandidateEmail
from tests.candidates.factories import BatchFactory, CandidateFactory, stored_cv_content

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


class WorkerDied(BaseException):
    """Stands in for SIGKILL: nothing after it runs (BaseException, so no handler records anything either)."""


def test_a_render_killed_after_done_leaves_nothing_half_done(monkeypatch):
    batch = BatchFactory(uploaded_count=1)
    candidate = CandidateFactory(
        batch=batch, processing_stage=Stage.RENDERING, ai_enhanced_cv_content=stored_cv_content()
    )

    def die(candidate):
        raise WorkerDied

    with monkeypatch.context() as patch:
        patch.setattr(pipeline, "_queue_availability_email", die)
        with pytest.raises(WorkerDied):
            pipeline.render(candidate.id, candidate.run_id)
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.RENDERING  # rolled back: the re-delivered task is not stale

    pipeline.render(candidate.id, candidate.run_id)  # the re-delivered task
    candidate.refresh_from_db()
    batch.refresh_from_db()
    assert candidate.processing_stage == Stage.DONE and candidate.enhanced_cv
    assert CandidateEmail.objects.filter(candidate=candidate).count() == 1
    assert batch.finished_at is not None


def test_a_worker_killed_between_a_stage_commit_and_the_next_publish_is_resumed_on_redelivery(
    monkeypatch, eager_celery
):
    """Found by the worker-kill scenario: analysis committed ``rendering``, the worker died before the render
    task was published, and the re-delivered analysis task was stale — the candidate sat in rendering for good."""
    from candidates import tasks

    batch = BatchFactory(uploaded_count=1)
    candidate = CandidateFactory(
        batch=batch, processing_stage=Stage.ANALYSING, extracted_text="Jane Doe\nTeacher of maths since 2015."
    )

    def die(*args):
        raise WorkerDied

    with monkeypatch.context() as patch:
        patch.setattr(tasks.render_cv, "delay", die)
        with pytest.raises(WorkerDied):
            pipeline.analyse(candidate.id, candidate.run_id)
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.RENDERING  # committed, but no render task exists

    pipeline.analyse(candidate.id, candidate.run_id)  # the re-delivered analysis task: stale, does nothing
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.RENDERING
    pipeline.resume_after_redelivery(Stage.ANALYSING, candidate.id, candidate.run_id)  # what it does next
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.DONE and candidate.enhanced_cv
    batch.refresh_from_db()
    assert batch.finished_at is not None


def test_a_pending_availability_email_whose_task_was_lost_is_sent_on_redelivery(monkeypatch, eager_celery):
    from outreach import tasks as outreach_tasks

    candidate = CandidateFactory(
        batch=BatchFactory(uploaded_count=1),
        processing_stage=Stage.RENDERING,
        ai_enhanced_cv_content=stored_cv_content(),
        email="jane.doe@example.org",
    )

    def die(*args):
        raise WorkerDied

    with monkeypatch.context() as patch:
        patch.setattr(outreach_tasks.send_availability_email, "delay", die)
        with pytest.raises(WorkerDied):
            pipeline.render(candidate.id, candidate.run_id)
    record = CandidateEmail.objects.get(candidate=candidate)
    assert record.status == CandidateEmail.Status.PENDING

    pipeline.render(candidate.id, candidate.run_id)  # stale: the candidate is done
    pipeline.resume_after_redelivery(Stage.RENDERING, candidate.id, candidate.run_id)
    record.refresh_from_db()
    assert record.status == CandidateEmail.Status.SENT
    pipeline.resume_after_redelivery(
        Stage.RENDERING, candidate.id, candidate.run_id
    )  # again: nothing to send
    assert CandidateEmail.objects.get(candidate=candidate).attempts == 1


def test_an_availability_email_left_sending_by_a_dead_worker_is_closed_not_dropped():
    candidate = CandidateFactory()
    record = CandidateEmail.objects.create(
        candidate=candidate, kind=CandidateEmail.Kind.AVAILABILITY, status=CandidateEmail.Status.SENDING
    )
    # The re-delivered task arrives before the send time limit: it must come back, not drop the record.
    outcome = services.send_availability_email(candidate.id, final_attempt=False)
    assert outcome.retry and services.AVAILABILITY_TIME_LIMIT - 5 < outcome.retry_after <= (
        services.AVAILABILITY_TIME_LIMIT + 1
    )
    CandidateEmail.objects.filter(pk=record.pk).update(
        updated_at=timezone.now() - timedelta(seconds=services.AVAILABILITY_TIME_LIMIT + 1)
    )
    assert services.send_availability_email(candidate.id, final_attempt=False) == services.Outcome()
    record.refresh_from_db()
    assert (record.status, record.error) == (
        "failed",
        services.INTERRUPTED,
    )  # its fate is unknown: not re-sent


def test_s3_asking_to_try_again_is_retried_then_recorded_as_storage_failed(monkeypatch, eager_celery):
    """A restarting S3 server answers 500 InternalError ("please try again") for a moment: a retry, not a
    permanent ``internal_error`` (found by the storage scenario's re-queue right after the restart)."""
    from botocore.exceptions import ClientError
    from celery.exceptions import Retry

    from candidates.tasks import extract_cv

    class RestartingStorage:
        def open(self, name, mode="rb"):
            raise ClientError(
                {"Error": {"Code": "InternalError", "Message": "Please try again."},
                 "ResponseMetadata": {"HTTPStatusCode": 500}},
                "GetObject",
            )  # fmt: skip

    monkeypatch.setattr(pipeline, "default_storage", RestartingStorage())
    candidate = CandidateFactory(batch=BatchFactory(uploaded_count=1), processing_stage=Stage.QUEUED)
    args = (str(candidate.id), str(candidate.run_id))
    with pytest.raises(Retry):
        extract_cv.apply(args=args, retries=0)
    eager_celery.conf.task_eager_propagates = False  # let the task fail as in a worker: on_failure records it
    assert isinstance(extract_cv.apply(args=args, retries=extract_cv.max_retries).result, ClientError)
    candidate.refresh_from_db()
    assert (candidate.processing_stage, candidate.failure_code) == (Stage.FAILED, "storage_failed")
    assert candidate.ai_failure_reason == "Gave up after retries: ClientError."
