"""Enhanced-CV rendering speed: typical CVs, the 30-job worst case, and what the per-process caches buy."""

import statistics
import tempfile
import time
from collections.abc import Callable
from io import BytesIO
from pathlib import Path

import weasyprint.pdf.fonts
from pypdf import PdfReader
from weasyprint.text.ffi import harfbuzz_subset

from core.rendering import build_context, render_pdf
from core.rendering import pdf as pdf_module
from core.rendering.context import MAX_BULLETS, MAX_JOBS
from tests.core.rendering.samples import make_branding, make_cv

AREA = "rendering"
TYPICAL_RENDERS = 30
COMPARISON_RENDERS = 10
TARGET_SECONDS = 0.5


def run(report) -> None:
    with tempfile.TemporaryDirectory() as folder:
        branding = make_branding(Path(folder))
        contexts = [build_context(make_cv(seed)) for seed in range(TYPICAL_RENDERS)]
        render_pdf(contexts[0], branding)  # warm-up: fonts and stylesheet load once per process

        times, pages = [], []
        for context in contexts:
            seconds, pdf = _timed(lambda context=context: render_pdf(context, branding))
            times.append(seconds)
            pages.append(_page_count(pdf))
        mean, p95 = statistics.mean(times), _p95(times)
        report.add(AREA, f"typical CV ({TYPICAL_RENDERS} varied contexts), pages", statistics.mean(pages))
        report.add(
            AREA, "typical CV render, mean", mean, "s", f"≤ {TARGET_SECONDS} s", mean <= TARGET_SECONDS
        )
        report.add(AREA, "typical CV render, p95", p95, "s", f"≤ {TARGET_SECONDS} s", p95 <= TARGET_SECONDS)

        worst = build_context(make_cv(6, jobs=MAX_JOBS, bullets=MAX_BULLETS))
        seconds, pdf = _timed(lambda: render_pdf(worst, branding))
        report.add(
            AREA,
            f"worst case {MAX_JOBS} jobs × {MAX_BULLETS} bullets, pages",
            _page_count(pdf),
        )
        report.add(AREA, f"worst case {MAX_JOBS} jobs × {MAX_BULLETS} bullets, render", seconds, "s")

        sample = contexts[:COMPARISON_RENDERS]
        shared = _mean_render(sample, branding)
        fresh = _mean_render(sample, branding, before_each=_forget_process_caches)
        report.add(AREA, "mean render, per-process font config, CSS and fetcher", shared, "s")
        report.add(AREA, "mean render, all of them rebuilt for each render", fresh, "s")

        report.add(
            AREA, "HarfBuzz subsetter (libharfbuzz-subset0) in use", "yes" if harfbuzz_subset else "no"
        )
        if harfbuzz_subset:
            report.add(
                AREA,
                "mean render, fontTools subsetting instead",
                _mean_render_with_fonttools(sample, branding),
                "s",
            )


def _mean_render(contexts: list[dict], branding, before_each: Callable[[], None] = lambda: None) -> float:
    times = []
    for context in contexts:
        before_each()
        times.append(_timed(lambda context=context: render_pdf(context, branding))[0])
    return statistics.mean(times)


def _mean_render_with_fonttools(contexts: list[dict], branding) -> float:
    """WeasyPrint falls back to fontTools when the HarfBuzz subsetter is missing; emulate that machine."""
    saved = weasyprint.pdf.fonts.harfbuzz_subset
    weasyprint.pdf.fonts.harfbuzz_subset = None
    try:
        return _mean_render(contexts, branding)
    finally:
        weasyprint.pdf.fonts.harfbuzz_subset = saved


def _forget_process_caches() -> None:
    for cached in (
        pdf_module._font_config,
        pdf_module._fetcher,
        pdf_module._base_stylesheet,
        pdf_module._accent_stylesheet,
    ):
        cached.cache_clear()


def _timed(action: Callable[[], bytes]) -> tuple[float, bytes]:
    start = time.perf_counter()
    result = action()
    return time.perf_counter() - start, result


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20, method="inclusive")[-1]


def _page_count(pdf: bytes) -> int:
    return len(PdfReader(BytesIO(pdf)).pages)
