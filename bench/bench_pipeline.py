"""The CV pipeline at full size: 1000 realistic CVs uploaded over HTTP to gunicorn, then processed to the end
(PDF stored, availability e-mail handed to the mail backend) by real Celery workers on Redis + PostgreSQL + S3.

Targets (issue "CV pipeline"): upload accepted in ≤ 30 s with peak server RSS ≤ 300 MB; all 1000 processed in
≤ 5 minutes on this 2-core machine. ``BENCH_CVS`` changes the count (default 1000).
"""

import os
import random
import signal
import subprocess
import sys
import time
import uuid
from datetime import date
from pathlib import Path

from bench import django_env

HERE = Path(__file__).resolve().parent
CACHE = HERE / ".cache" / "cvs"
LAYOUTS = ("txt", "docx_table", "docx_header", "pdf_two_column", "pdf_sidebar", "odt", "rtf")


def generate(count: int) -> list[Path]:
    """Realistic fictional CVs in the common layouts, cached between runs (rendering PDFs takes a while)."""
    from tests.cvgen.layouts import render
    from tests.cvgen.profile import make_profile

    CACHE.mkdir(parents=True, exist_ok=True)
    paths, today = [], date.today()
    for seed in range(count):
        layout = LAYOUTS[seed % len(LAYOUTS)]
        existing = list(CACHE.glob(f"cv{seed:05d}.*"))
        if existing:
            paths.append(existing[0])
            continue
        paths.append(render(make_profile(100_000 + seed, today, layout), CACHE / f"cv{seed:05d}", layout))
    return paths


def _peak_rss_mb(pid: int) -> float:
    """High-water RSS of a process and its children still alive (gunicorn master + worker)."""
    total = 0
    for proc in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{proc}/status").read_text()
        except FileNotFoundError:
            continue
        total = max(
            total, int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")))
        )
    return total / 1024


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []


def _start_web(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cvengine.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--threads", "4", "--timeout", "300", "--log-level", "warning"],
        env=dict(os.environ), start_new_session=True,
    )  # fmt: skip
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health/", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.3)
    raise RuntimeError("gunicorn did not start")


def _operator_token() -> str:
    from accounts.models import User
    from accounts.tokens import issue_tokens

    user, _ = User.objects.get_or_create(email="bench@cvengine.local", defaults={"is_staff": True})
    return issue_tokens(user).access


def run(report):
    count = int(os.environ.get("BENCH_CVS", "1000"))
    django_env.setup()
    import httpx

    from candidates.models import Batch, Candidate, Stage
    from outreach.models import CandidateEmail

    started = time.perf_counter()
    paths = generate(count)
    report.add("pipeline", f"generate {count} fictional CVs (cached after the first run)",
               time.perf_counter() - started, "s")  # fmt: skip

    Candidate.objects.all().delete()
    from cvengine.celery import app

    app.control.purge()
    port = random.randint(20000, 40000)
    web = _start_web(port)
    try:
        files = [("files", (path.name, path.read_bytes())) for path in paths]
        started = time.perf_counter()
        response = httpx.post(
            f"http://127.0.0.1:{port}/api/candidates/upload/",
            files=files,
            headers={"Authorization": f"Bearer {_operator_token()}"},
            timeout=600,
        )
        upload_seconds = time.perf_counter() - started
        rss = _peak_rss_mb(web.pid)
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    assert response.status_code == 202, response.text[:500]
    body = response.json()
    report.add("pipeline", f"upload {count} CVs (HTTP, gunicorn): accepted", body["accepted"], "files")
    report.add(
        "pipeline", f"upload {count} CVs: time to 202", upload_seconds, "s", "≤ 30 s", upload_seconds <= 30
    )
    report.add("pipeline", "upload: peak server RSS", rss, "MB", "≤ 300 MB", rss <= 300)

    batch_id = uuid.UUID(body["batch"]["id"])
    workers = [
        django_env.start_worker("ai", concurrency=2),
        django_env.start_worker("pdf,email,default", concurrency=1),
    ]
    try:
        started = time.perf_counter()
        passed: dict[str, float] = {}
        while True:
            stages = _stage_counts(Candidate, batch_id)
            elapsed = time.perf_counter() - started
            unfinished = sum(stages.get(s, 0) for s in ("queued", "extracting", "analysing", "rendering"))
            for name, ahead in (
                ("extracting", ("queued", "extracting")),
                ("analysing", ("queued", "extracting", "analysing")),
            ):
                if name not in passed and sum(stages.get(s, 0) for s in ahead) == 0:
                    passed[name] = elapsed
            if not unfinished or elapsed > 900:
                break
            time.sleep(1)
        total = time.perf_counter() - started
    finally:
        for worker in workers:
            django_env.stop_worker(worker)
    done = Candidate.objects.filter(batch_id=batch_id, processing_stage=Stage.DONE).count()
    failed = Candidate.objects.filter(batch_id=batch_id, processing_stage=Stage.FAILED).count()
    emails = CandidateEmail.objects.filter(candidate__batch_id=batch_id, status="sent").count()
    report.add("pipeline", "processed to the end (done / failed)", f"{done} / {failed}")
    report.add("pipeline", "extraction finished for all at", passed.get("extracting", total), "s")
    report.add("pipeline", "analysis finished for all at", passed.get("analysing", total), "s")
    report.add("pipeline", f"{count} CVs processed end to end (2 cores)", total, "s", "≤ 300 s", total <= 300)
    report.add("pipeline", "throughput", (done + failed) / total if total else 0, "CVs/s")
    report.add("pipeline", "availability e-mails handed to the mail backend", emails, "")
    report.add("pipeline", "batch finished", bool(Batch.objects.get(id=batch_id).finished_at))


def _stage_counts(model, batch_id) -> dict[str, int]:
    from django.db.models import Count

    rows = model.objects.filter(batch_id=batch_id).values("processing_stage").annotate(n=Count("id"))
    return {row["processing_stage"]: row["n"] for row in rows}
