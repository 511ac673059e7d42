"""The candidate's photo, if the CV has one (pipeline.md §7.5).

Sources: PDF page-1 image objects, DOCX images referenced from the body and headers, ODT ``Pictures/``; none
for RTF and TXT. An image is eligible when it is at least 96×96 px, 2 KB–5 MB encoded, portrait-ish (w/h
0.6–1.1), used only once in the document (logos repeat in headers and footers, icons beside every contact
line) and, in a PDF, centred in the top 40 % of page 1. The largest eligible image wins and is re-encoded as
a JPEG of at most 600×600 px, without EXIF, ICC or any other metadata. Failures never raise: no photo and a
warning instead.
"""

import hashlib
import io
import posixpath
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import BinaryIO
from zipfile import ZipFile

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image, ImageFile, ImageOps

from core.extraction.docx import header_footer_parts
from core.extraction.errors import CORRUPT_FILE, ExtractionError, describe
from core.extraction.filetypes import FileType
from core.extraction.limits import DEFAULT_LIMITS, Limits
from core.extraction.sandbox import run_isolated
from core.extraction.sources import Source, opened, portable
from core.extraction.xmlparts import local_name, parse_xml
from core.extraction.zipsafe import open_zip, read_member

MIN_SIDE = 96
MIN_BYTES, MAX_BYTES = 2 * 1024, 5 * 1024 * 1024
MIN_ASPECT, MAX_ASPECT = 0.6, 1.1
TOP_SHARE = 0.4  # of the page height, for PDFs
MAX_PIXELS = 40_000_000  # larger images are not decoded (decompression bombs)
OUTPUT_SIDE = 600
IMAGE_FORMATS = ["JPEG", "PNG", "GIF", "BMP", "TIFF", "WEBP"]
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"


@dataclass
class Candidate:
    width: int
    height: int
    encoded_bytes: int
    uses: int  # how often the document shows this image
    placed: bool  # where a photo can be (PDF: top of page 1; elsewhere always)
    decode: Callable[[], Image.Image]

    @property
    def eligible(self) -> bool:
        return (
            self.placed
            and self.uses == 1
            and min(self.width, self.height) >= MIN_SIDE
            and self.width * self.height <= MAX_PIXELS
            and MIN_BYTES <= self.encoded_bytes <= MAX_BYTES
            and MIN_ASPECT <= self.width / self.height <= MAX_ASPECT
        )


def extract_photo(
    source: Source,
    file_type: FileType | str,
    *,
    limits: Limits = DEFAULT_LIMITS,
    warnings: list[str] | None = None,
) -> bytes | None:
    """The photo as JPEG bytes, or None. Problems are appended to ``warnings`` (when given), never raised."""
    try:
        kind = FileType(file_type)
    except ValueError:
        kind = None
    if kind not in READERS:
        return None
    try:
        document, _ = portable(source, limits.max_file_bytes)
        return run_isolated(_best_photo, document, kind, limits, limits=limits)
    except (ExtractionError, OSError) as exc:
        if warnings is not None:
            warnings.append(f"photo not extracted: {getattr(exc, 'message', type(exc).__name__)}")
        return None


def _best_photo(document: str | bytes, kind: FileType, limits: Limits) -> bytes | None:
    """Runs in the sandbox."""
    # WeasyPrint switches Pillow's process-wide LOAD_TRUNCATED_IMAGES on when imported (a worker that also renders
    # PDFs has it on); this sandbox process owns its copy, so a damaged photo is refused here, never half-decoded.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    with opened(document) as fh, READERS[kind](fh, limits) as candidates:
        eligible = [c for c in candidates if c.eligible]
        if not eligible:
            return None
        best = max(eligible, key=lambda c: c.width * c.height)
        try:
            return to_jpeg(best.decode())
        except Exception as exc:  # Pillow and pdfium raise assorted errors on damaged image data
            raise ExtractionError(CORRUPT_FILE, "The photo image is damaged.", describe(exc))


def to_jpeg(image: Image.Image) -> bytes:
    """RGB JPEG of at most 600×600 px; orientation applied, metadata dropped."""
    if image.format == "JPEG":
        image.draft("RGB", (OUTPUT_SIDE, OUTPUT_SIDE))  # decode at a reduced scale: much faster
    image = ImageOps.exif_transpose(image)
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.new("RGB", rgba.size, (255, 255, 255))
        image.paste(rgba, mask=rgba.getchannel("A"))
    image = image.convert("RGB")
    image.thumbnail((OUTPUT_SIDE, OUTPUT_SIDE), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=88, optimize=True)  # a fresh image: no EXIF, ICC or comments
    return buffer.getvalue()


def _open_image(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data), formats=IMAGE_FORMATS)


# --- PDF -------------------------------------------------------------------------------------------------------


class _PdfCandidates:
    """Image objects of page 1, with how often each image appears on the pages read."""

    def __init__(self, fh: BinaryIO, limits: Limits) -> None:
        self.document = pdfium.PdfDocument(fh)
        self.limits = limits

    def __enter__(self) -> list[Candidate]:
        uses: Counter[bytes] = Counter()
        first_page = []
        for index in range(min(len(self.document), self.limits.max_pages)):
            page = self.document[index]
            _, bottom, _, top = page.get_mediabox()
            for image in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=4):
                raw = bytes(image.get_data(decode_simple=False))
                key = hashlib.sha256(raw).digest()
                uses[key] += 1
                if index == 0:
                    _, low, _, high = image.get_bounds()
                    placed = (low + high) / 2 >= top - TOP_SHARE * (top - bottom)
                    first_page.append((image, raw, key, placed))
        return [
            Candidate(*image.get_px_size(), len(raw), uses[key], placed, _pdf_decoder(image, raw))
            for image, raw, key, placed in first_page
        ]

    def __exit__(self, *exc_info) -> None:
        self.document.close()


def _pdf_decoder(image: pdfium.PdfImage, raw: bytes) -> Callable[[], Image.Image]:
    if image.get_filters() == ["DCTDecode"]:
        return lambda: _open_image(raw)  # the stream is a JPEG file: keep its colours exactly
    return lambda: image.get_bitmap(render=False).to_pil()


# --- DOCX and ODT ------------------------------------------------------------------------------------------------


class _PackageCandidates:
    """Images of a ZIP package, counted by how many references the document's parts make to each."""

    def __init__(
        self, fh: BinaryIO, limits: Limits, references: Callable[[ZipFile, Limits], Counter[str]]
    ) -> None:
        self.archive = open_zip(fh, limits)
        self.limits = limits
        self.references = references

    def __enter__(self) -> list[Candidate]:
        uses = self.references(self.archive, self.limits)
        candidates = []
        for name, count in uses.items():
            try:
                info = self.archive.getinfo(name)
            except KeyError:
                continue  # a reference to a missing or external image
            if not MIN_BYTES <= info.file_size <= MAX_BYTES:
                continue
            data = read_member(self.archive, name, MAX_BYTES)
            try:
                width, height = _open_image(data).size
            except (OSError, ValueError, Image.DecompressionBombError):  # EMF, SVG, damaged: never the photo
                continue
            candidates.append(
                Candidate(width, height, len(data), count, True, lambda data=data: _open_image(data))
            )
        return candidates

    def __exit__(self, *exc_info) -> None:
        self.archive.close()


def _docx_references(archive: ZipFile, limits: Limits) -> Counter[str]:
    """Image targets referenced from the body, headers and footers (a footer use counts as a repeat)."""
    uses: Counter[str] = Counter()
    for part in ["word/document.xml", *header_footer_parts(archive, limits)]:
        root = parse_xml(read_member(archive, part, limits.max_part_bytes), part)
        targets = _relationship_targets(archive, part, limits)
        for element in _outside_fallbacks(root):
            if local_name(element) in ("blip", "imagedata"):
                for key, value in element.attrib.items():
                    if key.endswith(("}embed", "}id")) and value in targets:
                        uses[targets[value]] += 1
    return uses


def _relationship_targets(archive: ZipFile, part: str, limits: Limits) -> dict[str, str]:
    """Relationship id → package path for one part's internal relationships."""
    folder, name = posixpath.split(part)
    rels = f"{folder}/_rels/{name}.rels"
    if rels not in archive.namelist():
        return {}
    root = parse_xml(read_member(archive, rels, limits.max_part_bytes), rels)
    targets = {}
    for rel in root.iter(f"{{{RELS_NS}}}Relationship"):
        target = rel.get("Target", "")
        if rel.get("TargetMode") != "External" and target:
            path = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"{folder}/{target}")
            targets[rel.get("Id", "")] = path
    return targets


def _odt_references(archive: ZipFile, limits: Limits) -> Counter[str]:
    """``Pictures/`` entries referenced from content.xml and styles.xml (headers and footers)."""
    uses: Counter[str] = Counter()
    for part in ("content.xml", "styles.xml"):
        if part not in archive.namelist():
            continue
        root = parse_xml(read_member(archive, part, limits.max_part_bytes), part)
        for element in root.iter():
            if local_name(element) == "image":
                href = next((v for k, v in element.attrib.items() if k.endswith("}href")), "")
                if href.startswith("Pictures/"):
                    uses[href] += 1
    return uses


def _outside_fallbacks(root):
    """Elements not inside ``mc:Fallback`` (Word repeats each drawing there for old readers)."""
    stack = [root]
    while stack:
        element = stack.pop()
        if local_name(element) == "Fallback":
            continue
        yield element
        stack.extend(element)


READERS = {
    FileType.PDF: _PdfCandidates,
    FileType.DOCX: partial(_PackageCandidates, references=_docx_references),
    FileType.ODT: partial(_PackageCandidates, references=_odt_references),
}
