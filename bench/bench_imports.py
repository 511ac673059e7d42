"""Imports core: read + normalise the schools workbook, read + normalise + match the contacts workbook,
and stream a synthetic 100,000-row workbook (time and peak memory of both processes)."""

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

from core.imports.contacts import CONTACT_COLUMNS, plan_contacts
from core.imports.organizations import ORGANIZATION_COLUMNS, OrganizationRowValidator
from core.imports.spreadsheet import open_spreadsheet
from core.matching.matcher import MatchQuery, School, SchoolIndex, match_contacts
from tests.core.imports.workbooks import inline_cell, raw_xlsx

AREA = "imports"
ROOT = Path(__file__).resolve().parents[1]
REFERENCE = Path(os.environ.get("CVENGINE_REFERENCE_DATA", ROOT.parent / "shared/data/reference"))
CORE_BUDGET_S = 5.0  # the core's share of the 20 s import budget (the rest is database writes)
STREAM_ROWS = 100_000

# A fresh interpreter streams the big workbook, so its peak memory is not mixed with the other figures.
_STREAM_PROBE = """
import json, resource, sys, time
sys.path.insert(0, sys.argv[2])
from core.imports.organizations import ORGANIZATION_COLUMNS, OrganizationRowValidator
from core.imports.spreadsheet import open_spreadsheet
start, rows, validator = time.perf_counter(), 0, OrganizationRowValidator()
with open_spreadsheet(sys.argv[1], ORGANIZATION_COLUMNS) as sheet:
    for chunk in sheet.chunks(1000):
        rows += sum(1 for row in chunk if not validator.validate(row).skipped)
# VmHWM, not ru_maxrss: after a vfork + exec, ru_maxrss still counts the spawning process's memory.
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({
    "rows": rows,
    "seconds": time.perf_counter() - start,
    "parent_kb": peak_kb,
    "reader_kb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,  # an upper bound, see above
}))
"""


def run(report) -> None:
    organizations, contacts = REFERENCE / "Organizations.xlsx", REFERENCE / "Contacts.xlsx"
    if organizations.is_file() and contacts.is_file():
        index = _organizations(report, organizations)
        _contacts(report, contacts, index)
        # Measured in a fresh interpreter: this process's peaks include every benchmark that ran before it.
        figures = _probe(organizations)
        report.add(AREA, "schools workbook streamed: peak RSS, caller", figures["parent_kb"] / 1024, "MB")
        report.add(
            AREA, "schools workbook streamed: peak RSS, reader subprocess", figures["reader_kb"] / 1024, "MB"
        )
    else:
        report.add(AREA, "real workbooks", f"skipped: not found in {REFERENCE}")
    _stream(report)


def _organizations(report, path: Path) -> SchoolIndex:
    start = time.perf_counter()
    validator = OrganizationRowValidator()
    with open_spreadsheet(path, ORGANIZATION_COLUMNS) as sheet:
        results = [validator.validate(row) for chunk in sheet.chunks(1000) for row in chunk]
    seconds = time.perf_counter() - start
    records = [r.record for r in results if r.record]
    report.add(
        AREA,
        "organisations: read + normalise",
        seconds,
        "s",
        f"≤ {CORE_BUDGET_S} s",
        seconds <= CORE_BUDGET_S,
    )
    report.add(AREA, "organisations: rows/s", round(len(results) / seconds), "rows/s")
    report.add(
        AREA, "organisations: rows imported / error rows", f"{len(records)} / {len(results) - len(records)}"
    )
    start = time.perf_counter()
    index = SchoolIndex(
        School(r.urn, r.urn, r.name, r.local_authority, r.town, r.street, r.postcode) for r in records
    )
    report.add(AREA, "school index build", time.perf_counter() - start, "s")
    return index


def _contacts(report, path: Path, index: SchoolIndex) -> None:
    start = time.perf_counter()
    with open_spreadsheet(path, CONTACT_COLUMNS) as sheet:
        rows = list(sheet.rows())
    outcomes = plan_contacts(rows, index)
    seconds = time.perf_counter() - start
    report.add(
        AREA,
        "contacts: read + normalise + match",
        seconds,
        "s",
        f"≤ {CORE_BUDGET_S} s",
        seconds <= CORE_BUDGET_S,
    )
    statuses = Counter(o.status for o in outcomes)
    report.add(AREA, "contacts: import outcome", ", ".join(f"{k} {v}" for k, v in statuses.most_common()))

    # The matcher's own figure: every row with a name and an authority, e-mail or not.
    queries = [
        MatchQuery(
            r.values["local_authority"] or "",
            r.values["organization_name"] or "",
            (r.values["work_email"] or "").lower(),
        )
        for r in rows
    ]
    results = match_contacts(index, queries)
    matched = Counter(r.status for r in results)
    methods = Counter(r.method for r in results if r.status == "linked")
    share = 100 * matched["linked"] / len(results)
    report.add(
        AREA,
        "contacts: linked / ambiguous / unmatched",
        f"{matched['linked']} / {matched['ambiguous']} / {matched['unmatched']}",
    )
    report.add(AREA, "contacts: linked by method", ", ".join(f"{k} {v}" for k, v in sorted(methods.items())))
    report.add(AREA, "contacts: % linked", share, "%", "≥ 99 %", share >= 99)


def _stream(report) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.xlsx"
        _write_big_workbook(path, STREAM_ROWS)
        figures = _probe(path)
    report.add(AREA, f"{STREAM_ROWS} rows: read + normalise", figures["seconds"], "s")
    report.add(AREA, f"{STREAM_ROWS} rows: rows/s", round(STREAM_ROWS / figures["seconds"]), "rows/s")
    report.add(
        AREA,
        f"{STREAM_ROWS} rows: rows accepted",
        figures["rows"],
        "",
        str(STREAM_ROWS),
        figures["rows"] == STREAM_ROWS,
    )
    parent_mb, reader_mb = figures["parent_kb"] / 1024, figures["reader_kb"] / 1024
    report.add(
        AREA,
        f"{STREAM_ROWS} rows: peak RSS, caller (streams chunks)",
        parent_mb,
        "MB",
        "≤ 150 MB",
        parent_mb <= 150,
    )
    report.add(
        AREA,
        f"{STREAM_ROWS} rows: peak RSS, reader subprocess",
        reader_mb,
        "MB",
        "≤ 1024 MB",
        reader_mb <= 1024,
    )


def _probe(path: Path) -> dict:
    """Stream ``path`` through the organisation validator in a fresh interpreter; its figures as a dict."""
    probe = subprocess.run(
        [sys.executable, "-c", _STREAM_PROBE, str(path), str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(probe.stdout)


def _write_big_workbook(path: Path, rows: int) -> None:
    """A schools-like sheet written as raw XML (openpyxl would take longer than the read being measured)."""

    def row_xml(number: int, cells: list) -> bytes:
        parts = [
            f'<c r="{column}{number}"><v>{value}</v></c>'.encode()
            if isinstance(value, int)
            else inline_cell(f"{column}{number}", value)
            for column, value in zip("ABCDEFGHIJKL", cells, strict=True)
        ]
        return f'<row r="{number}">'.encode() + b"".join(parts) + b"</row>"

    lines = [row_xml(1, [c.headers[0] for c in ORGANIZATION_COLUMNS])]
    for i in range(rows):
        town, postcode = f"Town {i % 500}", f"AB{i % 90 + 1} {i % 9}CD"
        cells = [200000 + i, f"Authority {i % 150}", f"Benchmark Primary School {i}", "Primary", "Mixed",
                 f"{i % 300} High Street", "", "", town, "Shire", postcode, 2072831147]  # fmt: skip
        lines.append(row_xml(i + 2, cells))
    path.write_bytes(raw_xlsx(b"".join(lines)))
