"""Offline extraction: CVs per second per core (text + parse, no OCR) and the accuracy harness figures."""

import tempfile
import time
from datetime import date
from pathlib import Path

from core.extraction.eval import TARGETS, evaluate
from core.extraction.filetypes import sniff
from core.extraction.offline import analyse_offline
from core.extraction.text import extract_text
from tests.cvgen.layouts import LAYOUTS
from tests.cvgen.profile import make_profile

TODAY = date(2025, 3, 15)
SPEED_LAYOUTS = ["txt", "docx_table", "pdf_two_column"]  # a TXT/DOCX/PDF mix of typical two-page CVs
SPEED_CVS = 60
TARGET_CVS_PER_SECOND = 20


def _speed(report) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        paths = [
            LAYOUTS[layout](make_profile(seed, TODAY, layout), Path(tmp) / f"cv{seed}")
            for seed in range(5000, 5000 + SPEED_CVS)
            for layout in [SPEED_LAYOUTS[seed % len(SPEED_LAYOUTS)]]
        ]
        started = time.perf_counter()
        texts = [extract_text(path, sniff(path), ocr=False).text for path in paths]
        extracted = time.perf_counter()
        for text in texts:
            analyse_offline(text, has_photo=False, hints=None, today=TODAY)
        finished = time.perf_counter()
    rate = SPEED_CVS / (finished - started)
    report.add("extraction", "offline path, text + analysis (1 process)", rate, "CVs/s",
               f">= {TARGET_CVS_PER_SECOND}", rate >= TARGET_CVS_PER_SECOND)  # fmt: skip
    report.add("extraction", "analysis only", SPEED_CVS / (finished - extracted), "CVs/s")
    report.add("extraction", "text extraction only", SPEED_CVS / (extracted - started), "CVs/s")


def _accuracy(report) -> None:
    result = evaluate(range(1000, 1200), today=TODAY)
    for name, value in result.figures().items():
        report.add("extraction", f"eval {name} (seeds 1000-1199)", value * 100, "%",
                   f">= {TARGETS[name] * 100:.0f} %", value >= TARGETS[name])  # fmt: skip


def run(report) -> None:
    _speed(report)
    _accuracy(report)
