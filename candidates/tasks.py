"""Thin, idempotent task wrappers over the pipeline (pipeline.md §12). Stale or repeated runs exit quietly.

``on_failure`` runs when a task finally fails — transient errors outlasting the retries, or anything
unexpected — and records it on the candidate, so no candidate stays unfinished without a reason.
"""

from celery import shared_task

from . import pipeline, remote_tasks, rewrite  # noqa: F401  (remote_tasks registers the remote-mode tasks)
from .models import Stage


def _run_stage(task, stage: str, step, candidate_id: str, run_id: str) -> None:
    step(candidate_id, run_id)
    if (task.request.delivery_info or {}).get("redelivered"):  # its first worker died mid-task
        pipeline.resume_after_redelivery(stage, candidate_id, run_id)


def _failed_stage(stage):
    def on_failure(self, exc, task_id, args, kwargs, einfo):
        pipeline.fail_after_error(stage, *args[:2], exc)

    return on_failure


@shared_task(
    name="candidates.extract_cv", bind=True, queue="ai", retry_base=10, max_retries=3, time_limit=180,
    on_failure=_failed_stage(Stage.EXTRACTING),
)  # fmt: skip
def extract_cv(self, candidate_id: str, run_id: str) -> None:
    _run_stage(self, Stage.EXTRACTING, pipeline.extract, candidate_id, run_id)


@shared_task(
    name="candidates.analyse_cv", bind=True, queue="ai", retry_base=15, max_retries=4, time_limit=360,
    on_failure=_failed_stage(Stage.ANALYSING),
)  # fmt: skip
def analyse_cv(self, candidate_id: str, run_id: str) -> None:
    _run_stage(self, Stage.ANALYSING, pipeline.analyse, candidate_id, run_id)


@shared_task(
    name="candidates.render_cv", bind=True, queue="pdf", retry_base=15, max_retries=3, time_limit=180,
    on_failure=_failed_stage(Stage.RENDERING),
)  # fmt: skip
def render_cv(self, candidate_id: str, run_id: str) -> None:
    _run_stage(self, Stage.RENDERING, pipeline.render, candidate_id, run_id)


def _regeneration_failed(self, exc, task_id, args, kwargs, einfo):
    pipeline.regeneration_failed(*args[:3], exc)


@shared_task(
    name="candidates.regenerate_pdf", queue="pdf", retry_base=15, max_retries=3, time_limit=180,
    on_failure=_regeneration_failed,
)  # fmt: skip
def regenerate_pdf(candidate_id: str, digest: str, rewrite_task_id: str | None = None) -> None:
    pipeline.regenerate(candidate_id, digest, rewrite_task_id)


def _rewrite_failed(self, exc, task_id, args, kwargs, einfo):
    rewrite.fail_rewrite(args[0], args[1], f"Rewrite failed: {type(exc).__name__}.")


@shared_task(
    name="candidates.rewrite_cv", queue="ai", retry_base=15, max_retries=3, time_limit=360,
    on_failure=_rewrite_failed,
)  # fmt: skip
def rewrite_cv(candidate_id: str, task_id: str) -> None:
    rewrite.rewrite(candidate_id, task_id)


@shared_task(name="candidates.reap_stuck_candidates", queue="default", max_retries=0, time_limit=60)
def reap_stuck_candidates() -> dict:
    return pipeline.reap_stuck_candidates()
