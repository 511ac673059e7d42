"""Platform figures: signed-link minting, a task's round trip through Redis to a real worker, health latency."""

import statistics
import time
import uuid

from bench import django_env


def _per_second(fn, n):
    started = time.perf_counter()
    for _ in range(n):
        fn()
    return n / (time.perf_counter() - started)


def run(report):
    django_env.setup()
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage
    from django.test import Client, override_settings

    from cvengine import storage
    from cvengine.tasks import cleanup_files

    rate = _per_second(lambda: storage.signed_url("candidates/enhanced/x/y.pdf", "Sarah - CV.pdf"), 2000)
    report.add(
        "platform", "S3 presigned links minted", rate, "/s", "≥ 1000/s (one cached client)", rate >= 1000
    )
    with override_settings(STORAGE_BACKEND="local"):
        rate = _per_second(lambda: storage.signed_url("candidates/enhanced/x/y.pdf", "Sarah - CV.pdf"), 2000)
    report.add("platform", "local signed links minted", rate, "/s")

    worker = django_env.start_worker("default", concurrency=1)
    try:
        latencies = []
        for _ in range(20):
            name = default_storage.save(f"bench/{uuid.uuid4().hex}.txt", ContentFile(b"x"))
            started = time.perf_counter()
            cleanup_files.delay([name])
            while default_storage.exists(name):
                time.sleep(0.005)
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        django_env.stop_worker(worker)
    p50 = statistics.median(latencies)
    report.add(
        "platform", "task round trip (Redis → worker → S3 delete) p50", p50, "ms", "< 500 ms", p50 < 500
    )

    from cvengine import views

    client = Client()
    timings = []
    for _ in range(10):
        views._cache.update(at=0.0, result=None)
        started = time.perf_counter()
        assert client.get("/api/health/").status_code == 200
        timings.append((time.perf_counter() - started) * 1000)
    report.add(
        "platform",
        "health check (uncached, db+broker+S3) p50",
        statistics.median(timings),
        "ms",
        "< 2000 ms",
        statistics.median(timings) < 2000,
    )
