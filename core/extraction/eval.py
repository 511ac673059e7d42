"""Accuracy harness (``make eval``): fresh fictional CVs in every layout → offline path → per-field accuracy.

    python -m core.extraction.eval [--seeds 1000-1199] [--layouts txt,docx_table] [--today 2025-03-15]

Scalars score 1 on an exact match after normalisation (case, spacing; phones as E.164); lists score the F1 of
their normalised item sets; employment history matches whole jobs on role + employer + start + end. Scanned
CVs are scored only on being flagged for manual review. Exit status 1 when a target is missed.

The generator and renderers live in ``tests/cvgen`` (development tooling, not shipped).
"""

import argparse
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from core.extraction.normalise import fold, normalise_phone

DEFAULT_SEEDS = range(1000, 1200)
DEFAULT_TODAY = date(2025, 3, 15)
TARGETS = {"overall": 0.95, "email": 0.99, "phone": 0.99, "scanned flagged": 1.0}
SCANNED_LAYOUT = "scan"
SCALAR_FIELDS = ("full_name", "given_name", "email", "phone", "location", "postcode")
LIST_FIELDS = ("job_titles", "skills", "qualifications")
FIELDS = (
    *SCALAR_FIELDS,
    *LIST_FIELDS,
    "employment_history",
    "education",
    "experience",
    "has_photo",
    "quality_check",
)


def _generator():
    """The fictional-CV generator and renderers (imported lazily: they sit in the test tree)."""
    try:
        from tests.cvgen.layouts import LAYOUTS
        from tests.cvgen.profile import make_profile
    except ModuleNotFoundError:
        sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
        from tests.cvgen.layouts import LAYOUTS
        from tests.cvgen.profile import make_profile
    return make_profile, LAYOUTS


def _scalar(value: Any) -> str:
    return fold(str(value)) if value not in (None, "") else ""


def set_f1(expected: Iterable[Any], got: Iterable[Any]) -> float:
    """F1 of two sets; two empty sets agree completely."""
    expected, got = set(expected), set(got)
    if not expected and not got:
        return 1.0
    return 2 * len(expected & got) / (len(expected) + len(got))


def score_cv(profile: Any, summary: dict[str, Any]) -> dict[str, float]:
    """Per-field scores (0–1) of one extract summary against its profile's ground truth."""
    expected_scalars = {
        "full_name": profile.full_name,
        "given_name": profile.given_name,
        "email": (profile.email or "").lower(),
        "phone": profile.phone_e164,
        "location": profile.location,
        "postcode": profile.postcode,
    }
    scores = {}
    for name, expected in expected_scalars.items():
        got = summary.get(name)
        if name == "phone":
            got = normalise_phone(got) if got else None
        scores[name] = float(_scalar(expected) == _scalar(got))
    expected_lists = {
        "job_titles": profile.job_titles,
        "skills": profile.skills,
        "qualifications": profile.qualifications,
    }
    for name, expected in expected_lists.items():
        scores[name] = set_f1(map(fold, expected), map(fold, summary.get(name) or []))
    scores["employment_history"] = set_f1(
        ((fold(j.role), fold(j.employer), j.start, j.end) for j in profile.jobs),
        (
            (fold(j["role"] or ""), fold(j["employer"] or ""), j["start"], j["end"])
            for j in summary["employment_history"]
        ),
    )
    scores["education"] = set_f1(
        ((fold(e.qualification), fold(e.institution)) for e in profile.education),
        ((fold(e["qualification"]), fold(e["institution"])) for e in summary["education"]),
    )
    scores["experience"] = float(summary.get("experience_months") == profile.total_months)
    scores["has_photo"] = float(bool(summary.get("has_photo")) == profile.has_photo)
    scores["quality_check"] = float(summary.get("quality_check") == profile.expected_quality)
    return scores


@dataclass
class EvalReport:
    field_scores: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    layout_scores: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    scanned_flags: list[bool] = field(default_factory=list)
    misses: list[tuple[int, str, str]] = field(default_factory=list)  # (seed, layout, field)
    seconds: float = 0.0

    @property
    def cv_count(self) -> int:
        return len(next(iter(self.field_scores.values()), [])) + len(self.scanned_flags)

    def accuracy(self, name: str) -> float:
        values = self.field_scores.get(name) or []
        return statistics.fmean(values) if values else 0.0

    @property
    def overall(self) -> float:
        return statistics.fmean(self.accuracy(name) for name in FIELDS) if self.field_scores else 0.0

    @property
    def scanned_flagged(self) -> float:
        return statistics.fmean(self.scanned_flags) if self.scanned_flags else 1.0

    def figures(self) -> dict[str, float]:
        return {"overall": self.overall, "email": self.accuracy("email"), "phone": self.accuracy("phone"),
                "scanned flagged": self.scanned_flagged}  # fmt: skip

    def failed_targets(self) -> list[str]:
        return [name for name, value in self.figures().items() if value < TARGETS[name]]


def evaluate(
    seeds: Iterable[int],
    *,
    today: date = DEFAULT_TODAY,
    layouts: list[str] | None = None,
    workdir: Path | None = None,
    analyse: Callable[[Path], dict[str, Any]] | None = None,
    ocr: bool | None = None,
) -> EvalReport:
    """Generate, render and analyse one CV per seed (layouts in rotation) and score every field."""
    from core.cli import analyse_file

    make_profile, renderers = _generator()
    layouts = layouts or sorted(renderers)
    analyse = analyse or (lambda path: analyse_file(path, today=today, ocr=ocr))
    report = EvalReport()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cvengine-eval-") as tmp:
        folder = workdir or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        for position, seed in enumerate(seeds):
            layout = layouts[position % len(layouts)]
            profile = make_profile(seed, today, layout)
            path = renderers[layout](profile, folder / f"cv_{seed}_{layout}")
            summary = analyse(Path(path))
            if layout == SCANNED_LAYOUT:
                report.scanned_flags.append(summary["quality_check"] == "manual review")
                continue
            scores = score_cv(profile, summary)
            for name in FIELDS:
                report.field_scores[name].append(scores[name])
                if scores[name] < 1:
                    report.misses.append((seed, layout, name))
            report.layout_scores[layout].append(statistics.fmean(scores.values()))
    report.seconds = time.perf_counter() - started
    return report


def format_report(report: EvalReport) -> str:
    lines = [f"Offline extraction accuracy on {report.cv_count} fresh CVs ({report.seconds:.1f} s)", ""]
    lines += [f"  {'field':<22} accuracy", f"  {'-' * 22} --------"]
    lines += [f"  {name:<22} {report.accuracy(name) * 100:7.1f} %" for name in FIELDS]
    lines += ["", f"  {'layout':<22} accuracy   CVs"]
    for layout, values in sorted(report.layout_scores.items()):
        lines.append(f"  {layout:<22} {statistics.fmean(values) * 100:7.1f} % {len(values):5d}")
    if report.scanned_flags:
        lines.append(f"  {SCANNED_LAYOUT:<22} {report.scanned_flagged * 100:7.1f} % {len(report.scanned_flags):5d}"
                     "  (flagged for manual review)")  # fmt: skip
    lines.append("")
    for name, value in report.figures().items():
        verdict = "ok" if value >= TARGETS[name] else "BELOW TARGET"
        lines.append(f"  {name:<22} {value * 100:7.1f} %  target ≥ {TARGETS[name] * 100:.0f} %  {verdict}")
    return "\n".join(lines)


def _seed_range(text: str) -> range:
    try:
        first, _, last = text.partition("-")
        return range(int(first), int(last or first) + 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"seeds must look like 1000-1199, got {text!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cvengine eval", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--seeds", type=_seed_range, default=DEFAULT_SEEDS, help="inclusive range, e.g. 1000-1199"
    )
    parser.add_argument("--layouts", help="comma-separated subset of the renderers' layouts")
    parser.add_argument("--today", type=date.fromisoformat, default=DEFAULT_TODAY, help="processing date")
    parser.add_argument("--keep", type=Path, help="keep the rendered CVs in this folder")
    parser.add_argument("--no-ocr", action="store_true", help="never OCR the scanned layout")
    parser.add_argument("--show-misses", type=int, default=0, metavar="N", help="list the first N misses")
    args = parser.parse_args(argv)
    layouts = [name.strip() for name in args.layouts.split(",")] if args.layouts else None
    report = evaluate(
        args.seeds, today=args.today, layouts=layouts, workdir=args.keep, ocr=False if args.no_ocr else None
    )
    print(format_report(report))
    for seed, layout, name in report.misses[: args.show_misses]:
        print(f"  miss: seed {seed} {layout} {name}")
    return 1 if report.failed_targets() else 0


if __name__ == "__main__":
    sys.exit(main())
