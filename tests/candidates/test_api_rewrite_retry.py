"""C9 rewrite, C10 rewrite status, C15 retry, C16 retry-failed."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from candidates.models import Batch, Candidate, RewriteStatus, Stage
from tests.candidates.factories import BatchFactory, CandidateFactory, stored_cv_content

pytestmark = pytest.mark.django_db


def rewrite_url(candidate) -> str:
    return f"/api/candidates/{candidate.id}/rewrite/"


def status_url(candidate) -> str:
    return f"/api/candidates/{candidate.id}/rewrite/status/"


# --- C9 ------------------------------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_rewrite_starts_and_is_enqueued_after_commit(operator_client, django_capture_on_commit_callbacks):
    candidate = CandidateFactory(ai_enhanced_cv_content=stored_cv_content())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = operator_client.post(
            rewrite_url(candidate), {"instruction": "  Emphasise SEND.  "}, format="json"
        )
    assert response.status_code == 202
    body = response.json()
    task_id = uuid.UUID(body["rewrite_task_id"])
    assert body == {
        "message": "CV rewrite started.",
        "rewrite_task_id": str(task_id),
        "rewrite_status": "processing",
    }
    candidate.refresh_from_db()
    assert candidate.rewrite_status == RewriteStatus.PROCESSING and candidate.rewrite_task_id == task_id
    assert candidate.rewrite_instruction == "Emphasise SEND."
    assert len(callbacks) == 1
    # a second request while it runs is refused with the running task id
    response = operator_client.post(rewrite_url(candidate), {}, format="json")
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Rewrite already in progress.",
        "code": "rewrite_in_progress",
        "rewrite_task_id": str(task_id),
    }


@pytest.mark.sqlite
def test_rewrite_without_a_body_or_instruction(operator_client, django_capture_on_commit_callbacks):
    candidate = CandidateFactory(ai_enhanced_cv_content=stored_cv_content())
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(rewrite_url(candidate))
    assert response.status_code == 202


@pytest.mark.sqlite
@pytest.mark.parametrize(
    ("content", "rewrite_status", "expected"),
    [
        (None, RewriteStatus.IDLE, ("No AI content found. Cannot rewrite.", "no_ai_content")),
        ({}, RewriteStatus.PROCESSING, ("No AI content found. Cannot rewrite.", "no_ai_content")),
        (
            {"status": "success", "data_extracted": {}},
            RewriteStatus.FAILED,
            ("data_extracted is empty. Cannot rewrite.", "data_extracted_empty"),
        ),
        (
            {"status": "success"},
            RewriteStatus.COMPLETED,
            ("data_extracted is empty. Cannot rewrite.", "data_extracted_empty"),
        ),
        (
            stored_cv_content(),
            RewriteStatus.PROCESSING,
            ("Rewrite already in progress.", "rewrite_in_progress"),
        ),
    ],
)
def test_rewrite_checks_in_contract_order(operator_client, content, rewrite_status, expected):
    candidate = CandidateFactory(ai_enhanced_cv_content=content, rewrite_status=rewrite_status)
    response = operator_client.post(rewrite_url(candidate), {}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert (body["detail"], body["code"]) == expected
    assert Candidate.objects.get(pk=candidate.pk).rewrite_status == rewrite_status


@pytest.mark.sqlite
def test_rewrite_instruction_is_limited(operator_client):
    candidate = CandidateFactory(ai_enhanced_cv_content=stored_cv_content())
    response = operator_client.post(rewrite_url(candidate), {"instruction": "x" * 1001}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["instruction"]


# --- C10 -----------------------------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_rewrite_status_shapes(operator_client):
    task_id = uuid.uuid4()
    idle = CandidateFactory()
    assert operator_client.get(status_url(idle)).json() == {
        "rewrite_status": "idle",
        "message": "No rewrite has been started for this candidate.",
    }
    running = CandidateFactory(rewrite_status=RewriteStatus.PROCESSING, rewrite_task_id=task_id)
    assert operator_client.get(status_url(running)).json() == {
        "rewrite_status": "processing",
        "message": "CV rewrite is still in progress.",
        "rewrite_task_id": str(task_id),
    }
    failed = CandidateFactory(
        rewrite_status=RewriteStatus.FAILED, rewrite_failure_reason="rewrite changed immutable fields"
    )
    assert operator_client.get(status_url(failed)).json() == {
        "rewrite_status": "failed",
        "rewrite_failure_reason": "rewrite changed immutable fields",
    }
    done = CandidateFactory(rewrite_status=RewriteStatus.COMPLETED, files=True)
    body = operator_client.get(status_url(done)).json()
    assert set(body) == {"rewrite_status", "candidate"} and body["rewrite_status"] == "completed"
    assert body["candidate"]["id"] == str(done.id) and body["candidate"]["enhanced_cv_url"]


# --- C15 / C16 -------------------------------------------------------------------------------------------------------


@pytest.mark.sqlite
def test_retry_a_failed_candidate_resumes_at_the_failed_stage(
    operator_client, django_capture_on_commit_callbacks
):
    candidate = CandidateFactory(
        processing_stage=Stage.FAILED,
        failure_stage=Stage.RENDERING,
        failure_code="pdf_failed",
        ai_retry_count=0,
    )
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = operator_client.post(f"/api/candidates/{candidate.id}/retry/")
    assert response.status_code == 202
    assert response.json() == {
        "message": "Processing restarted.",
        "candidate_id": str(candidate.id),
        "from_stage": "rendering",
        "ai_processing_status": "in_progress",
    }
    candidate.refresh_from_db()
    assert candidate.processing_stage == Stage.RENDERING and candidate.ai_retry_count == 1
    assert len(callbacks) == 1


@pytest.mark.sqlite
def test_retry_a_stuck_candidate(operator_client, django_capture_on_commit_callbacks):
    candidate = CandidateFactory(processing_stage=Stage.ANALYSING, extracted_text="some text")
    Candidate.objects.filter(pk=candidate.pk).update(stage_updated_at=timezone.now() - timedelta(hours=2))
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(f"/api/candidates/{candidate.id}/retry/")
    assert response.status_code == 202 and response.json()["from_stage"] == "analysing"


@pytest.mark.sqlite
@pytest.mark.parametrize(("stage", "status"), [(Stage.DONE, "completed"), (Stage.EXTRACTING, "in_progress")])
def test_retry_refused_when_not_failed_or_stuck(operator_client, stage, status):
    candidate = CandidateFactory(processing_stage=stage)
    response = operator_client.post(f"/api/candidates/{candidate.id}/retry/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": "Candidate is not failed or stuck.",
        "code": "not_retryable",
        "ai_processing_status": status,
    }


@pytest.mark.sqlite
def test_retry_failed_requeues_every_failed_candidate_of_the_batch(
    operator_client, django_capture_on_commit_callbacks
):
    batch = BatchFactory()
    failed = [
        CandidateFactory(batch=batch, processing_stage=Stage.FAILED, failure_stage=Stage.EXTRACTING)
        for _ in range(2)
    ]
    CandidateFactory(batch=batch, processing_stage=Stage.DONE)
    CandidateFactory(processing_stage=Stage.FAILED, failure_stage=Stage.EXTRACTING)  # other batch
    Batch.objects.filter(pk=batch.pk).update(finished_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = operator_client.post(f"/api/candidates/batches/{batch.id}/retry-failed/")
    assert response.status_code == 202
    body = response.json()
    assert body["message"] == "2 candidate(s) re-queued." and body["retried"] == 2
    assert sorted(body["candidate_ids"]) == sorted(str(c.id) for c in failed)
    assert len(callbacks) == 2
    assert Batch.objects.get(pk=batch.pk).finished_at is None
    response = operator_client.post(f"/api/candidates/batches/{batch.id}/retry-failed/")
    assert response.json() == {"message": "0 candidate(s) re-queued.", "retried": 0, "candidate_ids": []}


@pytest.mark.sqlite
def test_retry_failed_unknown_batch(operator_client):
    for bad in ("x", str(uuid.uuid4())):
        response = operator_client.post(f"/api/candidates/batches/{bad}/retry-failed/")
        assert response.status_code == 404 and response.json() == {"detail": "Batch not found."}
