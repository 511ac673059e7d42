"""Schools and contacts through the real Django service: imports of the real workbooks and nearby search via the API.

- Imports: each real file goes through ``organizations.imports`` exactly as a worker runs it — stored in S3, read
  back, normalised, geocoded from the full offline gazetteer / matched, and written in chunked transactions on
  PostgreSQL (bench/django_env.py). Target ≤ 20 s per file.
- Nearby: 200 requests through the API (Django test Client, real JWT bearer authentication) against the 25k real
  schools and their contacts, at varied candidates and radii, half C7 (organisations), half C8 (contacts).
  Target p95 ≤ 30 ms. Also the query plan and database time of a 10 km search around EC3A 5DE.
"""

import os
import random
import statistics
import time
from collections import Counter
from pathlib import Path

from bench import django_env

AREA = "organizations"
ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("CVENGINE_REFERENCE_DATA", ROOT.parent / "shared/data/reference"))
IMPORT_TARGET_S = 20.0
NEARBY_TARGET_MS = 30.0
NEARBY_REQUESTS = 200
RADII_KM = (1, 2, 3, 5, 10, 15)


def run(report) -> None:
    organizations, contacts = REFERENCE / "Organizations.xlsx", REFERENCE / "Contacts.xlsx"
    if not (organizations.is_file() and contacts.is_file()):
        report.add(AREA, "real workbooks", f"skipped: not found in {REFERENCE}")
        return
    django_env.setup()  # with the full gazetteer
    _reset()
    _import_organizations(report, organizations)
    _import_contacts(report, contacts)
    _nearby(report)


def _reset() -> None:
    from organizations.models import Contact, ImportJob, Organization

    Contact.objects.all().delete()
    Organization.objects.all().delete()
    ImportJob.objects.all().delete()


def _run_import(kind: str, path: Path):
    from django.core.files import File

    from organizations import imports

    started = time.perf_counter()
    with path.open("rb") as handle:
        job = imports.start_import(kind, File(handle, name=path.name), False, None, enqueue=False)
    imports.run_job(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    if job.status != "completed":
        raise RuntimeError(f"{kind} import failed: {job.error}")
    return job, seconds


def _import_organizations(report, path: Path) -> None:
    from organizations.models import Organization

    job, seconds = _run_import("organizations", path)
    counts = job.summary["counts"]
    report.add(
        AREA, "organisations import (S3 → read → geocode → write)", seconds, "s",
        f"≤ {IMPORT_TARGET_S:g} s", seconds <= IMPORT_TARGET_S,
    )  # fmt: skip
    report.add(AREA, "organisations import: rows/s", counts["rows"] / seconds, "rows/s")
    report.add(
        AREA,
        "organisations: rows / created / skipped",
        f"{counts['rows']} / {counts['created']} / {counts['skipped']}",
        "",
        "24891 kept",
        counts["created"] == 24_891 and Organization.objects.count() == 24_891,
    )
    precision = Counter(Organization.objects.values_list("geocode_precision", flat=True))
    report.add(
        AREA,
        "organisations geocoded: unit / sector / outward / town / none",
        " / ".join(str(precision.get(p, 0)) for p in ("unit", "sector", "outward", "town", None)),
    )
    job, seconds = _run_import("organizations", path)
    counts = job.summary["counts"]
    report.add(AREA, "organisations re-import (all unchanged)", seconds, "s")
    report.add(AREA, "organisations re-import: unchanged", counts["unchanged"], "rows")


def _import_contacts(report, path: Path) -> None:
    job, seconds = _run_import("contacts", path)
    counts = job.summary["counts"]
    report.add(
        AREA, "contacts import (S3 → read → match → write)", seconds, "s",
        f"≤ {IMPORT_TARGET_S:g} s", seconds <= IMPORT_TARGET_S,
    )  # fmt: skip
    report.add(AREA, "contacts import: rows/s", counts["rows"] / seconds, "rows/s")
    invalid = _rejected_as(job, "invalid")
    matched = counts["rows"] - counts["unmatched"] - counts["ambiguous"] - invalid
    report.add(
        AREA,
        "contacts: created / skipped (duplicate or invalid) / unmatched / ambiguous",
        f"{counts['created']} / {counts['skipped']} / {counts['unmatched']} / {counts['ambiguous']}",
    )
    share = 100 * matched / counts["rows"]
    report.add(AREA, "contacts: rows matched to a school", share, "%", "≥ 99 %", share >= 99)


def _nearby(report) -> None:
    from django.db import connection
    from django.test import Client

    from accounts.models import User
    from accounts.tokens import issue_tokens
    from candidates.models import Candidate
    from organizations import nearby
    from organizations.models import Organization

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE organizations_organization")
        cursor.execute("ANALYZE organizations_contact")
    circle = nearby.Circle(51.51366, -0.07747, 10.0)
    queryset = nearby.nearby_organizations(circle)[:500]
    plan = queryset.explain(analyze=True)
    index_scan = "org_geo_box_gist" in plan and "Seq Scan on organizations_organization" not in plan
    execution_ms = next(
        (float(line.split(":")[1].split()[0]) for line in plan.splitlines() if "Execution Time" in line), 0.0
    )
    report.add(
        AREA,
        "10 km around EC3A 5DE: plan uses the GiST box index org_geo_box_gist (no seq scan)",
        str(index_scan),
        "",
        "yes",
        index_scan,
    )
    report.add(
        AREA, "10 km around EC3A 5DE: database time", execution_ms, "ms", "< 100 ms", execution_ms < 100
    )

    user = User.objects.filter(email="bench-operator@example.org").first() or User.objects.create_user(
        "bench-operator@example.org", "bench-pass-phrase-1!", first_name="Bench", is_staff=True
    )
    client = Client(HTTP_AUTHORIZATION=f"Bearer {issue_tokens(user).access}")
    Candidate.objects.filter(name__startswith="Bench candidate").delete()
    rng = random.Random(42)
    postcodes = list(
        Organization.objects.exclude(postcode="")
        .filter(geocode_precision="unit")
        .values_list("postcode", flat=True)
    )
    candidates = [
        Candidate.objects.create(
            name=f"Bench candidate {i}", postcode=postcode, file_sha256=f"{i:064d}", processing_stage="done"
        )
        for i, postcode in enumerate(rng.sample(postcodes, 40))
    ]
    for candidate in candidates:  # coordinates are computed (and stored) on the first request
        assert (
            client.get(f"/api/candidates/{candidate.pk}/nearby-organizations/?radius_km=1").status_code == 200
        )
    timings = {"organizations": [], "contacts": []}
    found = []
    for i in range(NEARBY_REQUESTS):
        candidate, radius = rng.choice(candidates), rng.choice(RADII_KM)
        kind = "organizations" if i % 2 == 0 else "contacts"
        url = f"/api/candidates/{candidate.pk}/nearby-{kind}/?radius_km={radius}"
        started = time.perf_counter()
        response = client.get(url)
        timings[kind].append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        found.append(body["total_found"] if kind == "organizations" else body["pagination"]["total"])
    every = timings["organizations"] + timings["contacts"]
    p95 = _p95(every)
    report.add(
        AREA, f"nearby via API, {NEARBY_REQUESTS} requests (C7 + C8, radius 1–15 km) p95", p95, "ms",
        f"≤ {NEARBY_TARGET_MS:g} ms", p95 <= NEARBY_TARGET_MS,
    )  # fmt: skip
    report.add(AREA, "nearby via API p50", statistics.median(every), "ms")
    report.add(AREA, "C7 nearby organisations p95", _p95(timings["organizations"]), "ms")
    report.add(AREA, "C8 nearby contacts (page of 20) p95", _p95(timings["contacts"]), "ms")
    report.add(
        AREA, "nearby: results per request, median / max", f"{statistics.median(found):.0f} / {max(found)}"
    )
    Candidate.objects.filter(name__startswith="Bench candidate").delete()


def _rejected_as(job, status: str) -> int:
    """Rows of the job's rejects CSV with this status (the summary keeps only the first 1000 problems)."""
    import csv
    import io

    from django.core.files.storage import default_storage

    with default_storage.open(job.rejects_file) as handle:
        text = handle.read().decode("utf-8-sig")
    return sum(1 for line in csv.DictReader(io.StringIO(text)) if line["status"] == status)


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]
