"""Text of a CV document: format readers, normalisation, the scanned rule and OCR (pipeline.md §4).

``extract_text`` is the one entry point. Every read runs in the sandbox child (:mod:`core.extraction.sandbox`)
bounded by :class:`Limits`, so a hostile file costs at most a few seconds and a bounded amount of memory, and
fails with a coded error.
"""

import re
import unicodedata
from dataclasses import dataclass, field
from typing import BinaryIO

from core.extraction.docx import read_docx_text
from core.extraction.errors import (
    EMPTY_FILE,
    NO_TEXT_LAYER,
    TOO_LARGE,
    UNSUPPORTED_TYPE,
    ExtractionError,
)
from core.extraction.filetypes import FileType
from core.extraction.limits import DEFAULT_LIMITS, Budget, Limits
from core.extraction.ocr import ocr_pdf, tesseract_path
from core.extraction.odt import read_odt_text
from core.extraction.pdf import read_pdf_text
from core.extraction.plaintext import read_plain_text
from core.extraction.rtf import read_rtf_text
from core.extraction.sandbox import run_isolated
from core.extraction.sources import Source, opened, portable

MIN_CHARS = 200  # non-whitespace characters a document needs to count as having text
MIN_PDF_CHARS_PER_PAGE = 50
SCANNED_MESSAGE = "scanned or image-only document"
OCR_REASON = "text from OCR"


@dataclass
class ExtractedDocument:
    text: str  # normalised, at most Limits.max_text_chars characters
    pages: int  # PDF pages read (OCR'd pages when OCR was used); 1 for flow formats
    file_type: FileType
    ocr_used: bool  # the text came from OCR: carry the quality reason "text from OCR"
    has_text_layer: bool  # the document itself held enough text
    warnings: list[str] = field(default_factory=list)


def extract_text(
    source: Source, file_type: FileType | str, *, ocr: bool | None = None, limits: Limits = DEFAULT_LIMITS
) -> ExtractedDocument:
    """The normalised text of ``source`` (path, binary file or bytes) of the given sniffed type.

    ``ocr``: None uses OCR when the tesseract binary is installed, False never does, True does when it can.
    Raises ExtractionError: ``unsupported_type``, ``corrupt_file``, ``encrypted``, ``no_text_layer`` (scanned),
    and ``empty_file``/``too_large`` for inputs that never passed :func:`~core.extraction.filetypes.sniff`.
    """
    kind = _file_type(file_type)
    document, size = portable(source, limits.max_file_bytes)
    if size == 0:
        raise ExtractionError(EMPTY_FILE, "The file is empty.")
    if size > limits.max_file_bytes:
        raise ExtractionError(TOO_LARGE, f"The file is larger than {limits.max_file_bytes // 1_000_000} MB.")
    native = run_isolated(_read_native, document, kind, limits, limits=limits)
    if not looks_scanned(native.text, native.pages, kind):
        return native
    if kind is not FileType.PDF or ocr is False or tesseract_path() is None:
        raise ExtractionError(NO_TEXT_LAYER, _scanned_reason(native.text, native.pages, kind))
    seconds = limits.ocr_seconds + limits.hard_seconds  # pages are rendered and OCR'd inside the budget
    pages, warnings = run_isolated(_read_ocr, document, limits, limits=limits, seconds=seconds)
    text, truncated = normalise_text("\n\n".join(pages), limits)
    if looks_scanned(text, max(len(pages), 1), kind):
        raise ExtractionError(NO_TEXT_LAYER, f"{SCANNED_MESSAGE.capitalize()}; OCR found too little text.")
    if truncated:
        warnings.append(f"text truncated to {limits.max_text_chars} characters")
    warnings = [*native.warnings, *warnings, OCR_REASON]
    return ExtractedDocument(text, len(pages), kind, ocr_used=True, has_text_layer=False, warnings=warnings)


def looks_scanned(text: str, pages: int, file_type: FileType) -> bool:
    """The scanned rule: < 200 non-whitespace characters, or a PDF averaging < 50 per page."""
    visible = len(_WHITESPACE.sub("", text))
    return visible < MIN_CHARS or (
        file_type is FileType.PDF and visible < MIN_PDF_CHARS_PER_PAGE * max(pages, 1)
    )


def _scanned_reason(text: str, pages: int, file_type: FileType) -> str:
    """The operator's reason, with the count that decided it (a short TXT or DOCX is refused by the same rule)."""
    visible = len(_WHITESPACE.sub("", text))
    if visible >= MIN_CHARS:  # a PDF under the per-page average
        detail = f"{visible} characters of text on {pages} pages"
    else:
        detail = f"{visible} characters of text, fewer than the {MIN_CHARS} a CV needs"
    return f"{SCANNED_MESSAGE.capitalize()}: {detail}."


def _file_type(value: FileType | str) -> FileType:
    try:
        return FileType(value)
    except ValueError:
        raise ExtractionError(UNSUPPORTED_TYPE, f"Unsupported file type: {value!r}.")


def _read_native(document: str | bytes, kind: FileType, limits: Limits) -> ExtractedDocument:
    """Runs in the sandbox: the document's own text, normalised."""
    with opened(document) as fh:
        return _read_format(fh, kind, limits)


def _read_ocr(document: str | bytes, limits: Limits) -> tuple[list[str], list[str]]:
    """Runs in the sandbox: OCR text per page and warnings."""
    with opened(document) as fh:
        return ocr_pdf(fh, limits)


def _read_format(fh: BinaryIO, kind: FileType, limits: Limits) -> ExtractedDocument:
    budget = Budget(limits)
    warnings: list[str] = []
    pages = 1
    if kind is FileType.PDF:
        pdf = read_pdf_text(fh, limits, budget)
        raw, pages, warnings = "\n\n".join(pdf.pages), len(pdf.pages), pdf.warnings
    elif kind is FileType.DOCX:
        raw = read_docx_text(fh, limits, budget)
    elif kind is FileType.ODT:
        raw = read_odt_text(fh, limits, budget)
    elif kind is FileType.RTF:
        raw = read_rtf_text(fh, limits)
    else:
        raw = read_plain_text(fh, limits)
    if budget.exceeded and kind is not FileType.PDF:  # the PDF reader says how many pages it read
        warnings.append(f"reading stopped early: {budget.exceeded} budget spent")
    text, truncated = normalise_text(raw, limits)
    if truncated:
        warnings.append(f"text truncated to {limits.max_text_chars} characters")
    return ExtractedDocument(text, pages, kind, ocr_used=False, has_text_layer=True, warnings=warnings)


# --- normalisation ---------------------------------------------------------------------------------------------

# Bullet glyphs, including the private-use code points Word's Symbol and Wingdings fonts map bullets to.
BULLETS = "•●▪■◦‣∙○◆◇♦❖➢➣➤►▶▸▹✓✔✗✘☐□⁃\uf0b7\uf0a7\uf076\uf0d8\uf0fc\uf0a8\uf06c\uf06e\uf0e8\uf0f0\uf09f\uf0a4"
DASHES = "—–‒−‐―"
_WHITESPACE = re.compile(r"\s+")
_LINE_BREAKS = re.compile(r"\r\n?|[\x0b\x0c\x85\u2028\u2029]")
_INVISIBLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b-\u200d\u2060\ufeff\ufffe\uffff]")
_BULLET = re.compile(rf"[ \t]*[{BULLETS}][ \t]*|^[ \t]*·[ \t]*", re.MULTILINE)
_DASH = re.compile(f"[{DASHES}]")
_TABS = re.compile(r"[ \t]*\t[ \t]*")
_SPACES = re.compile(r" {2,}")
_LINE_EDGES = re.compile(r"^[ \t]+|[ \t]+$", re.MULTILINE)
_BLANK_LINES = re.compile(r"\n{3,}")
_HYPHENATED = re.compile(r"(\w)-\n(\w)")


def normalise_text(text: str, limits: Limits = DEFAULT_LIMITS) -> tuple[str, bool]:
    """(normalised text, whether it was cut to ``limits.max_text_chars``).

    NFKC; dashes → "-"; bullet glyphs → "• "; invisible and control characters dropped; runs of spaces
    collapsed (a run containing a tab becomes one tab: it separates table cells and tab-stop columns); lines
    trimmed; at most one blank line in a row; a word hyphenated across lines is rejoined only when the next
    line starts lower-case ("experi-\\nence", not "2015-\\n2018" or "Anglo-\\nSaxon").
    """
    truncated = len(text) > limits.max_chars
    text = unicodedata.normalize("NFKC", text[: limits.max_chars])
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _DASH.sub("-", text)
    text = _BULLET.sub(" • ", text)
    text = _TABS.sub("\t", text)
    text = _SPACES.sub(" ", text)
    text = _LINE_EDGES.sub("", text)
    text = _HYPHENATED.sub(_join_hyphenated, text)
    text = _BLANK_LINES.sub("\n\n", text).strip()
    if len(text) > limits.max_text_chars:
        cut = text.rfind(" ", limits.max_text_chars - 200, limits.max_text_chars)
        text, truncated = text[: cut if cut > 0 else limits.max_text_chars].rstrip(), True
    return text, truncated


def _join_hyphenated(match: re.Match) -> str:
    before, after = match.groups()
    return before + after if after.islower() else match.group(0)
