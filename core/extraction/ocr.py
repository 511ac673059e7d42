"""OCR of scanned PDFs: pages rendered with pypdfium2, read by the ``tesseract`` command (Debian tesseract-ocr).

Tesseract runs single-threaded (OMP_THREAD_LIMIT=1: one CV per worker core) within one time budget; pages
are rendered at ``limits.ocr_dpi`` but never beyond MAX_SIDE pixels, so a huge page box cannot exhaust memory.
"""

import io
import os
import shutil
import subprocess
import time
from typing import BinaryIO

import pypdfium2 as pdfium

from core.extraction.errors import CORRUPT_FILE, ExtractionError, describe
from core.extraction.limits import Limits

MAX_SIDE = 5000  # pixels on the longer side of a rendered page
OCR_LANGUAGE = "eng"


def tesseract_path() -> str | None:
    """The tesseract binary on PATH, or None when OCR is unavailable."""
    return shutil.which("tesseract")


def ocr_pdf(fh: BinaryIO, limits: Limits) -> tuple[list[str], list[str]]:
    """(text per page, warnings) for the first ``limits.ocr_max_pages`` pages."""
    binary = tesseract_path()
    if binary is None:
        raise ExtractionError(CORRUPT_FILE, "OCR is not available on this server.")
    try:
        document = pdfium.PdfDocument(fh)
    except pdfium.PdfiumError as exc:
        raise ExtractionError(CORRUPT_FILE, "The PDF could not be rendered for OCR.", describe(exc))
    pages, warnings = [], []
    deadline = time.monotonic() + limits.ocr_seconds
    try:
        count = len(document)
        if count > limits.ocr_max_pages:
            warnings.append(f"OCR read only the first {limits.ocr_max_pages} of {count} pages")
        for index in range(min(count, limits.ocr_max_pages)):
            try:
                image, dpi = _render(document[index], limits.ocr_dpi)
                pages.append(_tesseract(binary, image, dpi, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                warnings.append(f"OCR stopped at page {index + 1}: time limit reached")
                break
            except (subprocess.CalledProcessError, pdfium.PdfiumError, OSError) as exc:
                warnings.append(f"OCR of page {index + 1} failed ({type(exc).__name__})")
    finally:
        document.close()
    return pages, warnings


def _render(page: pdfium.PdfPage, dpi: int) -> tuple[bytes, int]:
    """The page as a greyscale PGM image, and the resolution it was rendered at."""
    width, height = page.get_size()
    scale = min(dpi / 72, MAX_SIDE / max(width, height, 1))
    image = page.render(scale=scale, grayscale=True).to_pil()
    buffer = io.BytesIO()
    image.convert("L").save(buffer, format="PPM")
    return buffer.getvalue(), max(round(scale * 72), 1)


def _tesseract(binary: str, image: bytes, dpi: int, seconds: float) -> str:
    if seconds <= 0:
        raise subprocess.TimeoutExpired(binary, 0)
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    done = subprocess.run(
        [binary, "stdin", "stdout", "-l", OCR_LANGUAGE, "--dpi", str(dpi)],
        input=image,
        capture_output=True,
        timeout=seconds,
        env=env,
        check=True,
    )
    return done.stdout.decode("utf-8", "replace")
