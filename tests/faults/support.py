"""Helpers of the fault suite: CV batches through the API, waiting for final states, and the checks every fault
scenario ends with (nothing lost, exact batch counts, no e-mail twice)."""

import time
from collections import Counter
from datetime import date

from django.core.files.uploadedfile import SimpleUploadedFile

from candidates.models import UNFINISHED_STAGES, Candidate, Stage
from tests.cvgen.layouts import render as render_cv
from tests.cvgen.profile import make_profile

LAYOUTS = ("txt", "docx_table", "docx_header", "odt", "rtf", "pdf_two_column")


def cv_files(tmp_path, count: int, first_seed: int = 0) -> list[SimpleUploadedFile]:
    """``count`` generated CVs in rotating layouts (distinct people; most give an e-mail address)."""
    today = date.today()
    files = []
    for seed in range(first_seed, first_seed + count):
        layout = LAYOUTS[seed % len(LAYOUTS)]
        path = render_cv(make_profile(5000 + seed, today, layout), tmp_path / f"cv{seed}", layout)
        files.append(SimpleUploadedFile(path.name, path.read_bytes()))
    return files


def upload(operator_client, files) -> str:
    response = operator_client.post("/api/candidates/upload/", {"files": files}, format="multipart")
    assert response.status_code == 202, response.content
    return response.json()["batch"]["id"]


def stage_counts(batch_id) -> Counter:
    return Counter(Candidate.objects.filter(batch_id=batch_id).values_list("processing_stage", flat=True))


def wait_for_done(batch_id, count: int, timeout: float = 120) -> None:
    """Until at least ``count`` candidates of the batch are done (the fault is injected mid-batch)."""
    deadline = time.monotonic() + timeout
    while Candidate.objects.filter(batch_id=batch_id, processing_stage=Stage.DONE).count() < count:
        assert time.monotonic() < deadline, f"no progress: {stage_counts(batch_id)}"
        time.sleep(0.2)


def wait_until_finished(batch_id, timeout: float, worker=None) -> None:
    """Until every candidate of the batch is done or failed and the batch has recorded its end."""
    from candidates.models import Batch

    deadline = time.monotonic() + timeout
    while (
        Candidate.objects.filter(batch_id=batch_id, processing_stage__in=UNFINISHED_STAGES).exists()
        or Batch.objects.filter(id=batch_id, finished_at=None).exists()
    ):
        log = worker.log_path.read_text()[-3000:] if worker else ""
        assert time.monotonic() < deadline, f"{stage_counts(batch_id)}\n{log}"
        time.sleep(0.5)


def assert_final_and_counted(
    operator_client, batch_id, expected_total: int, failure_codes=(), completions: int = 1
) -> list[Candidate]:
    """Every candidate done (with its PDF) or failed with stage, code (one of ``failure_codes``) and reason; the
    batch API reports exactly those numbers, 100 % and the matching status; the activity log has one completion
    entry per time the batch finished (``completions``: a retried batch finishes again).
    """
    from accounts.models import ActivityLog

    candidates = list(Candidate.objects.filter(batch_id=batch_id))
    assert len(candidates) == expected_total
    for candidate in candidates:
        assert candidate.processing_stage in (Stage.DONE, Stage.FAILED)
        if candidate.processing_stage == Stage.FAILED:
            assert candidate.failure_code and candidate.ai_failure_reason and candidate.failure_stage
            assert candidate.failure_code in failure_codes, (
                candidate.failure_code,
                candidate.ai_failure_reason,
            )
        else:
            assert candidate.enhanced_cv
    done = sum(c.processing_stage == Stage.DONE for c in candidates)
    failed = expected_total - done
    batch = operator_client.get(f"/api/candidates/batches/{batch_id}/").json()
    assert (batch["total_count"], batch["processed_count"], batch["failed_count"]) == (
        expected_total,
        done,
        failed,
    )
    assert batch["progress_percentage"] == 100 and batch["finished_at"]
    assert batch["status"] == ("completed_with_errors" if failed else "completed")
    finished = ActivityLog.objects.filter(
        batch_id=batch_id, event_type__in=("batch_completed", "batch_failed")
    )
    assert finished.count() == completions
    return candidates


def assert_each_recipient_once(recipients) -> None:
    """No e-mail twice: every address among all the messages handed to the provider appears once."""
    per_recipient = Counter(recipients)
    assert per_recipient, "no e-mail at all"
    assert max(per_recipient.values()) == 1, per_recipient.most_common(3)


def wait_for_availability_emails(batch_id, timeout: float = 60) -> dict:
    """Until no availability e-mail of the batch is pending or being sent; returns {status: count}."""
    from outreach.models import CandidateEmail

    records = CandidateEmail.objects.filter(candidate__batch_id=batch_id)
    deadline = time.monotonic() + timeout
    while records.filter(status__in=("pending", "sending")).exists():
        assert time.monotonic() < deadline, list(records.values_list("status", "error"))
        time.sleep(0.3)
    return dict(Counter(records.values_list("status", flat=True)))


def assert_one_availability_email_each(
    batch_id, candidates, *, timeout: float = 60, interrupted=False
) -> None:
    """Every finished candidate with an address has exactly one availability record, sent — or, when a killed
    worker may have been mid-send (``interrupted``), failed as interrupted, never sent again."""
    from outreach.models import CandidateEmail
    from outreach.services import INTERRUPTED

    statuses = wait_for_availability_emails(batch_id, timeout)
    records = CandidateEmail.objects.filter(candidate__batch_id=batch_id)
    expected = {c.pk for c in candidates if c.processing_stage == Stage.DONE and c.email}
    assert set(records.values_list("candidate_id", flat=True)) == expected
    assert set(statuses) <= ({"sent", "failed"} if interrupted else {"sent"}), statuses
    assert set(records.filter(status="failed").values_list("error", flat=True)) <= {INTERRUPTED}
