"""Load: 50 concurrent simulated operators for 60 s against gunicorn + PostgreSQL with production-like settings.

Server: ``gunicorn cvengine.wsgi`` (gthread, ``BENCH_LOAD_WORKERS`` × ``BENCH_LOAD_THREADS``, default 3 × 4), DEBUG
off and not in test mode (``CVENGINE_TESTING`` unset), PostgreSQL with persistent connections, Redis cache, S3
storage (signed photo links are minted per response), logging at WARNING. Data: the benchmark database as the
other benchmarks leave it — the 1000 candidates of bench_pipeline and the 24,891 real schools with their contacts
of bench_organizations; whatever is missing is created first (synthetic candidates; the real workbooks imported).
Candidates with a location are geocoded before the run (the steady state: the first nearby search stores them).

Client: one asyncio process with httpx, one coroutine per operator, each with its own Bearer token (no login in
the mix; the per-IP/per-account throttles only cover the auth endpoints, so they cannot distort the run). Each
operator sends its next request as soon as the previous one is answered (closed loop, no think time), picking:

    35 % candidate list (sometimes a filter or an ordering)   20 % search (``?search=`` a skill, job title,
    town or name fragment)   25 % candidate detail   10 % nearby organisations (5–25 km, ≤ 100)
    10 % nearby contacts (5–25 km)
    and after a page with more results, a 30 % chance to read the next page (its ``next`` link).

Reported: the service time with one operator (no queueing), then for the load run requests/s, p50/p95/p99 per
endpoint and overall, and errors (any non-2xx or transport error; target 0). With 50 operators and no think time
on 2 cores the server is saturated on purpose: latency under load is mostly time queued behind the others.
``BENCH_LOAD_OPERATORS`` and ``BENCH_LOAD_SECONDS`` change the load (defaults 50 and 60).
"""

import asyncio
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path
from urllib.parse import urlsplit

from bench import django_env

AREA = "load"
ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("CVENGINE_REFERENCE_DATA", ROOT.parent / "shared/data/reference"))
MIX = (
    ("candidate list", 35),
    ("candidate search", 20),
    ("candidate detail", 25),
    ("nearby organisations", 10),
    ("nearby contacts", 10),
)
SEARCH_TERMS = (
    "teaching assistant", "teacher", "send", "eyfs", "phonics", "maths", "science", "london", "leeds",
    "manchester", "birmingham", "nursery", "safeguarding", "cover supervisor", "ks2", "senco", "early years",
    "behaviour", "english", "year 6",
)  # fmt: skip
LIST_FILTERS = (
    "", "", "", "&quality_status=passed", "&availability_status=available", "&ordering=name",
    "&ordering=-years_of_experience", "&years_min=3", "&processing_stage=done", "&skills=Safeguarding",
)  # fmt: skip
MIN_CANDIDATES = 1000
MIN_SCHOOLS = 20_000


def run(report) -> None:
    operators = int(os.environ.get("BENCH_LOAD_OPERATORS", "50"))
    seconds = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
    django_env.setup()
    data = _prepare_data(report)
    tokens = _operator_tokens(operators)
    port = random.randint(20000, 40000)
    web = _start_web(port)
    try:
        unloaded = asyncio.run(_warm_up(port, tokens[0], data))
        samples, elapsed = asyncio.run(_load(port, tokens, data, seconds))
    finally:
        os.killpg(web.pid, signal.SIGTERM)
        web.wait(timeout=30)
    p50, p95, _ = _percentiles(unloaded)
    report.add(AREA, "one operator at a time (service time): p50 / p95", f"{p50:.0f} / {p95:.0f}", "ms")
    _report(report, samples, elapsed, operators)


# --- data -----------------------------------------------------------------------------------------------------


def _prepare_data(report) -> dict:
    from candidates.geo import locate_candidate
    from candidates.models import Candidate
    from organizations.models import Contact, Organization

    if Candidate.objects.count() < MIN_CANDIDATES:
        _create_candidates(MIN_CANDIDATES - Candidate.objects.count())
    if Organization.objects.count() < MIN_SCHOOLS:
        _import_schools()
    missing = Candidate.objects.filter(latitude__isnull=True).exclude(
        postcode__isnull=True, location__isnull=True
    )
    for candidate in missing.only("id", "postcode", "location").iterator():
        locate_candidate(candidate)
    candidates = [str(pk) for pk in Candidate.objects.values_list("id", flat=True)]
    located = [
        str(pk) for pk in Candidate.objects.filter(latitude__isnull=False).values_list("id", flat=True)
    ]
    report.add(
        AREA,
        "data: candidates (geocoded) / schools / contacts",
        f"{len(candidates)} ({len(located)}) / {Organization.objects.count()} / {Contact.objects.count()}",
    )
    if not located:
        raise RuntimeError("no candidate could be geocoded: nearby searches need located candidates")
    return {"candidates": candidates, "located": located}


def _create_candidates(count: int) -> None:
    """Synthetic processed candidates (only when bench_pipeline has not left its 1000)."""
    import hashlib

    from candidates.models import Candidate, Quality, Stage
    from candidates.search import refresh_search_text

    rng = random.Random(7)
    places = [
        ("Leeds", "LS1 4AP"),
        ("London", "EC3A 5DE"),
        ("Manchester", "M1 1AE"),
        ("Birmingham", "B15 2TT"),
    ]
    roles = [
        "Teaching Assistant",
        "Primary Teacher",
        "SEN Teaching Assistant",
        "Cover Supervisor",
        "Nursery Nurse",
    ]
    skills = ["Phonics", "Safeguarding", "SEND support", "EYFS", "KS2", "Behaviour management", "Maths"]
    rows = []
    for n in range(count):
        town, postcode = rng.choice(places)
        candidate = Candidate(
            name=f"Load Candidate{n} Surname{n}",
            name_without_surname=f"Load Candidate{n}",
            email=f"load.candidate{n}@example.org",
            location=town,
            postcode=postcode,
            years_of_experience=rng.randint(0, 25),
            skills=rng.sample(skills, 3),
            job_titles=[rng.choice(roles)],
            processing_stage=Stage.DONE,
            quality_status=Quality.PASSED,
            file_sha256=hashlib.sha256(f"load-{n}".encode()).hexdigest(),
        )
        refresh_search_text(candidate)
        rows.append(candidate)
    Candidate.objects.bulk_create(rows, batch_size=500)


def _import_schools() -> None:
    """The real schools and contacts workbooks, as bench_organizations imports them."""
    from bench.bench_organizations import _run_import

    organizations, contacts = REFERENCE / "Organizations.xlsx", REFERENCE / "Contacts.xlsx"
    if not (organizations.is_file() and contacts.is_file()):
        raise RuntimeError(f"schools are missing and the reference workbooks are not in {REFERENCE}")
    _run_import("organizations", organizations)
    _run_import("contacts", contacts)


def _operator_tokens(count: int) -> list[str]:
    from accounts.models import User
    from accounts.tokens import issue_tokens

    tokens = []
    for n in range(count):
        user, _ = User.objects.get_or_create(
            email=f"load-operator-{n:02d}@cvengine.local", defaults={"is_staff": True, "first_name": "Load"}
        )
        tokens.append(issue_tokens(user).access)
    return tokens


# --- server ---------------------------------------------------------------------------------------------------


def _start_web(port: int) -> subprocess.Popen:
    """gunicorn with production settings: no test mode, DEBUG off, WARNING logs, persistent DB connections."""
    import httpx

    env = {k: v for k, v in os.environ.items() if k != "CVENGINE_TESTING"}
    env.update(DEBUG="false", LOG_LEVEL="WARNING", DB_CONN_MAX_AGE="600")
    workers = os.environ.get("BENCH_LOAD_WORKERS", "3")
    threads = os.environ.get("BENCH_LOAD_THREADS", "4")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cvengine.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", workers,
         "--threads", threads, "--worker-class", "gthread", "--timeout", "60", "--keep-alive", "30",
         "--log-level", "warning"],
        env=env, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("gunicorn exited at start-up")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health/", timeout=2).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    os.killpg(proc.pid, signal.SIGTERM)
    raise RuntimeError("gunicorn did not start")


# --- client ---------------------------------------------------------------------------------------------------


def _request(rng: random.Random, data: dict) -> tuple[str, str]:
    kind = rng.choices([name for name, _ in MIX], weights=[w for _, w in MIX])[0]
    if kind == "candidate list":
        return kind, f"/api/candidates/?page=1{rng.choice(LIST_FILTERS)}"
    if kind == "candidate search":
        return kind, f"/api/candidates/?search={rng.choice(SEARCH_TERMS).replace(' ', '+')}"
    if kind == "candidate detail":
        return kind, f"/api/candidates/{rng.choice(data['candidates'])}/"
    radius = rng.choice((5, 10, 10, 15, 25))
    candidate = rng.choice(data["located"])
    if kind == "nearby organisations":
        return kind, f"/api/candidates/{candidate}/nearby-organizations/?radius_km={radius}&limit=100"
    return kind, f"/api/candidates/{candidate}/nearby-contacts/?radius_km={radius}"


def _next_page(kind: str, response) -> str | None:
    """Lists are paged by following ``next`` (an operator reads on only when there is more)."""
    if kind not in ("candidate list", "candidate search", "nearby contacts"):
        return None
    link = response.json()["pagination"]["next"]
    if not link:
        return None
    parts = urlsplit(link)
    return f"{parts.path}?{parts.query}"


async def _warm_up(port: int, token: str, data: dict) -> list[float]:
    """Requests of every kind so each worker has imported, connected and compiled before timing; then 150 more,
    one at a time, for the service time without queueing (returned, in seconds)."""
    import httpx

    rng, unloaded = random.Random(1), []
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        for n in range(210):
            _, path = _request(rng, data)
            sent = time.perf_counter()
            response = await client.get(path, headers=headers)
            if n >= 60 and response.status_code == 200:
                unloaded.append(time.perf_counter() - sent)
    return unloaded


async def _load(port: int, tokens: list[str], data: dict, seconds: float):
    import httpx

    samples: dict[str, list[float]] = defaultdict(list)
    errors: dict[str, list[str]] = defaultdict(list)
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30, limits=limits) as client:
        started = time.perf_counter()
        stop_at = started + seconds

        async def operator(n: int) -> None:
            rng, headers = random.Random(1000 + n), {"Authorization": f"Bearer {tokens[n]}"}
            follow = None
            while time.perf_counter() < stop_at:
                kind, path = follow or _request(rng, data)
                follow = None
                sent = time.perf_counter()
                try:
                    response = await client.get(path, headers=headers)
                    ok = 200 <= response.status_code < 300
                    problem = "" if ok else f"{response.status_code} {path}"
                except httpx.HTTPError as exc:
                    ok, problem = False, f"{type(exc).__name__} ({exc}) {path}"
                samples[kind].append(time.perf_counter() - sent)
                if not ok:
                    errors[kind].append(problem)
                elif rng.random() < 0.3 and (link := _next_page(kind, response)):
                    follow = (kind, link)

        await asyncio.gather(*(operator(n) for n in range(len(tokens))))
        elapsed = time.perf_counter() - started
    samples["_errors"] = errors  # type: ignore[assignment]
    return samples, elapsed


# --- report ---------------------------------------------------------------------------------------------------


def _percentiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000, cuts[98] * 1000


def _report(report, samples: dict, elapsed: float, operators: int) -> None:
    errors = samples.pop("_errors")
    everything = [value for values in samples.values() for value in values]
    total_errors = sum(len(v) for v in errors.values())
    report.add(AREA, f"{operators} operators, closed loop: requests in {elapsed:.0f} s", len(everything), "")
    report.add(AREA, "throughput", len(everything) / elapsed, "req/s")
    for kind, _ in MIX:
        values = samples.get(kind, [])
        if len(values) < 2:
            continue
        p50, p95, p99 = _percentiles(values)
        report.add(
            AREA,
            f"{kind}: n / p50 / p95 / p99",
            f"{len(values)} / {p50:.0f} / {p95:.0f} / {p99:.0f}",
            "ms",
        )
    p50, p95, p99 = _percentiles(everything)
    report.add(AREA, "overall: p50 / p95 / p99", f"{p50:.0f} / {p95:.0f} / {p99:.0f}", "ms")
    report.add(AREA, "overall p95", p95, "ms")
    report.add(AREA, "errors (non-2xx or transport)", total_errors, "", "0", total_errors == 0)
    for kind, problems in errors.items():
        for problem in sorted(set(problems))[:5]:
            print(f"    error in {kind}: {problem}", flush=True)
