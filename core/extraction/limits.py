"""Bounds on what one document may cost.

Two layers enforce them, because neither is enough alone: the cooperative :class:`Budget` here, checked by the
parsers (per PDF operator, per page), stops reading a document that is merely big or slow and keeps the text
read so far; :mod:`core.extraction.sandbox` runs every read in a child process with an address-space limit and
a wall-clock deadline, for what no checkpoint reaches (pdfminer inflating a stream in one piece, native code).
"""

import time
from dataclasses import dataclass

MiB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    max_file_bytes: int = 20 * MiB  # twice the upload cap: extraction never reads more than this
    max_pages: int = 20  # PDF pages read for text (pipeline.md §4)
    max_chars: int = 600_000  # raw characters collected before normalisation (10x what analysis keeps)
    max_text_chars: int = 60_000  # characters handed to analysis
    soft_seconds: float = 3.0  # cooperative: stop reading further pages, keep what was read
    hard_seconds: float = 8.0  # the sandbox child is killed
    memory_bytes: int = 384 * MiB  # address space the sandbox may add to what it inherited
    zip_max_entries: int = 2000
    zip_max_uncompressed: int = 100 * 1000 * 1000
    zip_max_ratio: float = 100.0
    max_part_bytes: int = 16 * MiB  # one XML part of a DOCX/ODT (a CV's document.xml is well under 1 MB)
    ocr_max_pages: int = 5  # a CV's first pages; a scanned 40-page bundle is not worth minutes of OCR
    ocr_dpi: int = 300
    ocr_seconds: float = 20.0  # for all pages together (a real scanned page takes 1.5–3 s)
    isolate: bool = True  # read in the sandbox child (POSIX); off only where fork is unavailable or unsafe


DEFAULT_LIMITS = Limits()


class BudgetExceeded(Exception):
    """Raised inside a parser when its cooperative budget is spent."""


class Budget:
    """A deadline and a character allowance shared by every stage reading one document."""

    def __init__(self, limits: Limits) -> None:
        self.deadline = time.monotonic() + limits.soft_seconds
        self.chars_left = limits.max_chars
        self.exceeded = ""  # "time" or "characters" once spent

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            self._exceed("time")

    def spend_chars(self, count: int) -> None:
        self.chars_left -= count
        if self.chars_left < 0:
            self._exceed("characters")

    def _exceed(self, reason: str) -> None:
        self.exceeded = reason
        raise BudgetExceeded(reason)
