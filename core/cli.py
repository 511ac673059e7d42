"""``cvengine`` command line: offline extraction of CV files to JSON, and the accuracy harness.

cvengine extract CV.pdf CV2.docx --out results/     one JSON per CV, named after the input's stem
cvengine eval --seeds 1000-1199                     per-field accuracy on freshly generated CVs
"""

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from core.extraction.errors import ExtractionError
from core.extraction.offline import analyse_offline, unreadable_summary


def analyse_file(
    path: Path, *, today: date, ocr: bool | None = None, is_known_town: Callable[[str], bool] | None = None
) -> dict[str, Any]:
    """Sniff, extract text and photo, analyse offline; an unreadable document gives a manual-review summary.

    ``ocr``: None uses OCR for scanned PDFs when tesseract is installed, False never does.
    """
    from core.extraction.filetypes import sniff
    from core.extraction.photo import extract_photo
    from core.extraction.text import extract_text

    try:
        file_type = sniff(path)
        document = extract_text(path, file_type, ocr=ocr)
    except ExtractionError as exc:
        return unreadable_summary(exc.code, exc.message)
    photo_warnings: list[str] = []  # a photo problem never stops the analysis (pipeline.md §7.5)
    has_photo = extract_photo(path, file_type, warnings=photo_warnings) is not None
    outcome = analyse_offline(
        document.text, has_photo=has_photo, hints=None, today=today, ocr_used=document.ocr_used,
        is_known_town=is_known_town,
    )  # fmt: skip
    summary = outcome.summary()
    summary["warnings"] = list(dict.fromkeys([*document.warnings, *photo_warnings, *summary["warnings"]]))
    return summary


def _output_path(out_dir: Path, source: Path, taken: set[Path]) -> Path:
    target = out_dir / f"{source.stem}.json"
    if target in taken:  # cv.pdf and cv.docx in one run: keep both
        target = out_dir / f"{source.stem}.{source.suffix.lstrip('.') or 'file'}.json"
    taken.add(target)
    return target


def _extract(args: argparse.Namespace) -> int:
    out_dir: Path = args.out
    out_dir.mkdir(parents=True, exist_ok=True)
    today = args.today or date.today()
    taken: set[Path] = set()
    missing = 0
    for source in args.files:
        if not source.is_file():
            print(f"{source}: no such file", file=sys.stderr)
            missing += 1
            continue
        summary = analyse_file(source, today=today, ocr=False if args.no_ocr else None)
        target = _output_path(out_dir, source, taken)
        target.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        reasons = ", ".join(summary["quality_reasons"]) or "-"
        print(f"{source} -> {target} ({summary['quality_check']}; {reasons})")
    return 1 if missing else 0


def _iso_date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cvengine", description="CV Engine command line tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    extract = commands.add_parser("extract", help="analyse CV files offline and write one JSON per CV")
    extract.add_argument("files", nargs="+", type=Path, metavar="FILE")
    extract.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder (created)")
    extract.add_argument("--today", type=_iso_date, help="processing date for 'present' (default: today)")
    extract.add_argument(
        "--no-ocr", action="store_true", help="never OCR scanned PDFs (they go to manual review)"
    )
    extract.set_defaults(handler=_extract)
    evaluate = commands.add_parser("eval", help="accuracy on freshly generated fictional CVs", add_help=False)
    evaluate.add_argument("rest", nargs=argparse.REMAINDER)
    evaluate.set_defaults(handler=lambda args: _eval(args.rest))
    return parser


def _eval(argv: list[str]) -> int:
    from core.extraction.eval import main as eval_main

    return eval_main(argv)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
