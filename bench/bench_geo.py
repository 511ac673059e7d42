"""Offline geocoder: full gazetteer build, index size, memory, lookup speed and real school-postcode coverage."""

import collections
import itertools
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from core.geo.build import build_gazetteer
from core.geo.distance import haversine_km
from core.geo.gazetteer import Gazetteer

AREA = "geo"
ORGANISATIONS = Path(__file__).resolve().parents[2] / "shared" / "data" / "reference" / "Organizations.xlsx"
RSS_LIMIT_MB = 250
SPEC_UNITS = {  # spec imports-and-geo §8
    "EC3A 5DE": (51.51366, -0.07747),
    "M1 1AE": (53.48349, -2.23118),
    "B15 2TT": (52.45328, -1.92789),
    "LS1 4AP": (53.79547, -1.55573),
    "SW1A 1AA": (51.50101, -0.14159),
    "BT1 1AA": (54.60244, -5.92229),
}
TOWN_QUERIES = [
    "London", "Manchester, UK", "Leeds, West Yorkshire", "Truro", "St Albans", "stoke-on-trent", "Kings Lynn",
    "Flat 2, 10 High Street, Truro, Cornwall", "Dhaka, Bangladesh", "Perth, Australia", "Atlantis", "Belfast",
]  # fmt: skip

# Runs in a fresh interpreter so the build's memory does not count: RSS after open and after the workload.
_RSS_PROBE = """
import json, sys
from core.geo.gazetteer import Gazetteer

def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

before = rss_mb()
gazetteer = Gazetteer.open(sys.argv[1])
opened = rss_mb()
for text in json.load(open(sys.argv[2])):
    gazetteer.geocode(text)
print(json.dumps({"before": before, "opened": opened, "after_lookups": rss_mb()}))
"""


def school_postcodes() -> list[str] | None:
    if not ORGANISATIONS.exists():
        return None
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(ORGANISATIONS)).get_sheet_by_index(0).to_python()
    column = rows[0].index("Postcode")
    return [str(row[column]).strip() for row in rows[1:] if str(row[column]).strip()]


def per_second(texts: list[str], gazetteer: Gazetteer) -> tuple[float, float]:
    started = time.perf_counter()
    for text in texts:
        gazetteer.geocode(text)
    elapsed = time.perf_counter() - started
    return len(texts) / elapsed, elapsed


def run(report) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-geo-") as directory:
        started = time.perf_counter()
        info = build_gazetteer(directory, force=True)
        report.add(AREA, "full gazetteer build", time.perf_counter() - started, "s")
        report.add(AREA, "index size on disk", info.size_bytes / 1e6, "MB")
        report.add(AREA, "unit postcodes indexed", info.counts["units"])
        report.add(AREA, "sectors / outward codes / towns",
                   f"{info.counts['sectors']} / {info.counts['outwards']} / {info.counts['towns']}")  # fmt: skip

        schools = school_postcodes()
        with Gazetteer.open(directory) as gazetteer:
            misses = [
                code
                for code, expected in SPEC_UNITS.items()
                if (found := gazetteer.geocode(code)) is None
                or found.precision != "unit"
                or haversine_km(found.latitude, found.longitude, *expected) > 0.05
            ]
            report.add(AREA, "spec §8 units within 50 m on the full index", f"{6 - len(misses)}/6",
                       target="6/6", passed=not misses)  # fmt: skip

            sample = list(itertools.islice(gazetteer.unit_postcodes(), 0, None, 27))
            rate, _ = per_second(sample, gazetteer)
            report.add(AREA, f"unit geocodes per second ({len(sample)} real postcodes)", rate, "/s")
            rate, _ = per_second(TOWN_QUERIES * 2000, gazetteer)
            report.add(AREA, "town geocodes per second", rate, "/s")

            if schools is None:
                report.add(AREA, "school postcodes", f"{ORGANISATIONS} absent: coverage not measured")
            else:
                _, elapsed = per_second(schools, gazetteer)
                report.add(AREA, f"geocode all {len(schools)} school postcodes", elapsed, "s",
                           target="< 1 s", passed=elapsed < 1.0)  # fmt: skip
                precisions = collections.Counter(
                    result.precision if (result := gazetteer.geocode(code)) else "none" for code in schools
                )
                report.add(AREA, "school postcodes resolved at unit level", 100 * precisions["unit"] / len(schools),
                           "%")  # fmt: skip
                report.add(AREA, "school postcodes at sector / outward / none",
                           f"{precisions['sector']} / {precisions['outward']} / {precisions['none']}")  # fmt: skip

        workload = Path(directory) / "workload.json"
        workload.write_text(json.dumps((schools or []) + TOWN_QUERIES))
        probe = subprocess.run(
            [sys.executable, "-c", _RSS_PROBE, directory, str(workload)],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        rss = json.loads(probe.stdout)
        report.add(AREA, "RSS of a fresh process after opening", rss["opened"], "MB",
                   target=f"≤ {RSS_LIMIT_MB} MB", passed=rss["opened"] <= RSS_LIMIT_MB)  # fmt: skip
        report.add(AREA, "RSS growth from opening", rss["opened"] - rss["before"], "MB")
        report.add(AREA, "RSS after geocoding every school", rss["after_lookups"], "MB",
                   target=f"≤ {RSS_LIMIT_MB} MB", passed=rss["after_lookups"] <= RSS_LIMIT_MB)  # fmt: skip
