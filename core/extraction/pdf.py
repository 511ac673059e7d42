"""PDF text in reading order: pdfminer.six document model + fast run collection + XY-cut layout."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO

from pdfminer.pdfdocument import PDFDocument, PDFEncryptionError, PDFPasswordIncorrect
from pdfminer.pdfinterp import PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pdfminer.pdfparser import PDFParser
from pdfminer.pdftypes import resolve1

from core.extraction.errors import CORRUPT_FILE, ENCRYPTED, ExtractionError, describe
from core.extraction.limits import Budget, BudgetExceeded, Limits
from core.extraction.pdf_content import RunCollector, RunInterpreter
from core.extraction.pdf_layout import page_text


@dataclass
class PdfText:
    pages: list[str]  # text of each page read, in order
    total_pages: int
    warnings: list[str] = field(default_factory=list)


def read_pdf_text(fh: BinaryIO, limits: Limits, budget: Budget) -> PdfText:
    """The text of the first ``limits.max_pages`` pages; raises ``encrypted`` or ``corrupt_file``."""
    with _quiet_pdfminer():
        document = open_document(fh)
        total = _page_count(document)
        resources = PDFResourceManager(caching=True)
        device = RunCollector(resources, budget)
        interpreter = RunInterpreter(resources, device)
        result = PdfText(pages=[], total_pages=total)
        try:
            for number, page in enumerate(PDFPage.create_pages(document), start=1):
                if number > limits.max_pages:
                    result.warnings.append(f"only the first {limits.max_pages} of {total} pages were read")
                    break
                try:
                    interpreter.process_page(page)
                except (BudgetExceeded, MemoryError):
                    raise
                except Exception as exc:  # one damaged page does not lose the others
                    device.take_runs()
                    result.warnings.append(f"page {number} could not be read ({type(exc).__name__})")
                    result.pages.append("")
                    continue
                result.pages.append(page_text(device.take_runs()))
        except BudgetExceeded as exc:
            partial = page_text(device.take_runs())
            if partial:
                result.pages.append(partial)
            if not any(page.strip() for page in result.pages):
                raise ExtractionError(
                    CORRUPT_FILE, "The PDF is too complex to read within the limits.", str(exc)
                )
            result.warnings.append(f"reading stopped after {len(result.pages)} page(s): {exc} budget spent")
        except MemoryError:
            raise
        except Exception as exc:
            if not result.pages:
                raise ExtractionError(
                    CORRUPT_FILE, "The PDF is damaged and its pages could not be read.", describe(exc)
                )
            result.warnings.append("the PDF page tree is damaged; later pages were not read")
        if not result.pages:
            raise ExtractionError(CORRUPT_FILE, "The PDF has no readable pages.")
        if device.skipped_strings:
            result.warnings.append("rotated or vertical text was ignored")
        if device.unmapped_glyphs:
            result.warnings.append(
                f"{device.unmapped_glyphs} glyph(s) without a Unicode mapping were dropped"
            )
        return result


def open_document(fh: BinaryIO) -> PDFDocument:
    """The parsed document, decrypted with the empty user password when it has one."""
    try:
        return PDFDocument(PDFParser(fh), password="")
    except PDFPasswordIncorrect:
        raise ExtractionError(ENCRYPTED, "The PDF is password-protected.")
    except PDFEncryptionError as exc:
        raise ExtractionError(ENCRYPTED, "The PDF uses an encryption that cannot be opened.", describe(exc))
    except Exception as exc:
        raise ExtractionError(CORRUPT_FILE, "The PDF is damaged and could not be opened.", describe(exc))


def _page_count(document: PDFDocument) -> int:
    try:
        return int(resolve1(resolve1(document.catalog["Pages"])["Count"]))
    except Exception:  # a damaged page tree: the count is only used in a warning
        return 0


@contextmanager
def _quiet_pdfminer() -> Iterator[None]:
    """pdfminer warns about every oddity of hostile files, sometimes quoting content: keep that out of logs."""
    logger = logging.getLogger("pdfminer")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
