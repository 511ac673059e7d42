"""Django for benchmarks: the production shape (PostgreSQL, Redis, SeaweedFS S3) on a dedicated database."""

import os
import subprocess
import sys
import time
from pathlib import Path

_ready = False
BENCH_DB = "cvengine_bench"
# The full gazetteer (all UK postcodes), built once (~10 s) and kept between runs: benchmarks geocode for real.
GEODATA = Path(__file__).resolve().parent.parent / "var" / "bench" / "geodata"


def setup() -> None:
    """Configure and migrate once per process; starts SeaweedFS like the test setup does."""
    global _ready
    if _ready:
        return
    import psycopg

    os.environ.setdefault("CVENGINE_TEST_PROFILE", "services")
    os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
    os.environ["LOG_LEVEL"] = "WARNING"
    from core.geo.build import build_gazetteer

    build_gazetteer(GEODATA)
    os.environ["GEO_DATA_DIR"] = str(GEODATA)
    import tests.testenv  # noqa: F401  (services env + S3 server)

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [BENCH_DB]).fetchone():
            conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cvengine.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from cvengine import storage

    storage.ensure_bucket()
    _ready = True


def start_worker(queues: str = "default,ai,pdf,email", concurrency: int = 2) -> subprocess.Popen:
    """A real Celery worker on the benchmark database; the caller stops it with stop_worker().

    Queued messages are kept (a benchmark may enqueue before its workers start); purge first if needed.
    """
    from cvengine.celery import app

    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cvengine",
            "worker",
            "-Q",
            queues,
            "--concurrency",
            str(concurrency),
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
            "--hostname",
            f"bench-{os.getpid()}@%h",
        ],
        env=dict(os.environ),
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("benchmark worker did not start")
    return proc


def stop_worker(proc: subprocess.Popen) -> None:
    import signal

    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=30)
