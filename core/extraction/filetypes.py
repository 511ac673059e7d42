"""Which kind of document an upload is, decided from its content alone (pipeline.md §4, api.md §3 C2).

:func:`sniff` accepts PDF, DOCX, ODT, RTF and plain text and rejects everything else with an ExtractionError
whose message names what was found ("legacy Word .doc", "JPEG image", "ZIP archive", ...). The file is read in
bounded chunks: the head, a ZIP central directory, or one streaming pass to decide whether it is text.
"""

import codecs
import re
import struct
from enum import StrEnum
from typing import BinaryIO

from core.extraction.errors import EMPTY_FILE, TOO_LARGE, UNSUPPORTED_TYPE, ExtractionError
from core.extraction.limits import DEFAULT_LIMITS, Limits
from core.extraction.sources import Source, opened, size_of
from core.extraction.zipsafe import open_zip, read_member

ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"


class FileType(StrEnum):
    PDF = "pdf"
    DOCX = "docx"
    ODT = "odt"
    RTF = "rtf"
    TXT = "txt"

    @property
    def extension(self) -> str:
        return self.value

    @property
    def media_type(self) -> str:
        return _MEDIA_TYPES[self]


_MEDIA_TYPES = {
    FileType.PDF: "application/pdf",
    FileType.DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    FileType.ODT: ODT_MIMETYPE,
    FileType.RTF: "application/rtf",
    FileType.TXT: "text/plain",
}

HEAD_BYTES = 8192
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"

# (offset, magic, what it is) for content we recognise only to reject it by name. A magic made of printable
# ASCII ("MZ", "BZh", ...) counts only when the head also holds a NUL byte, so a text CV starting "MZ" is text.
_SIGNATURES: list[tuple[int, bytes, str]] = [
    (0, b"\xff\xd8\xff", "JPEG image"),
    (0, b"\x89PNG\r\n\x1a\n", "PNG image"),
    (0, b"GIF87a", "GIF image"),
    (0, b"GIF89a", "GIF image"),
    (0, b"II*\x00", "TIFF image"),
    (0, b"MM\x00*", "TIFF image"),
    (0, b"\x00\x00\x00\x0cjP  \r\n\x87\n", "JPEG 2000 image"),
    (0, b"\x00\x00\x01\x00", "Windows icon"),
    (0, b"Rar!\x1a\x07", "RAR archive"),
    (0, b"7z\xbc\xaf\x27\x1c", "7-Zip archive"),
    (0, b"\x1f\x8b", "gzip archive"),
    (0, b"BZh", "bzip2 archive"),
    (0, b"\xfd7zXZ\x00", "xz archive"),
    (0, b"\x28\xb5\x2f\xfd", "Zstandard archive"),
    (0, b"MSCF", "Windows cabinet archive"),
    (257, b"ustar", "tar archive"),
    (0, b"MZ", "Windows executable"),
    (0, b"\x7fELF", "ELF executable"),
    (0, b"\xcf\xfa\xed\xfe", "macOS executable"),
    (0, b"\xce\xfa\xed\xfe", "macOS executable"),
    (0, b"\xca\xfe\xba\xbe", "macOS executable or Java class"),
    (0, b"\x00asm", "WebAssembly module"),
    (0, b"SQLite format 3\x00", "SQLite database"),
    (0, b"ID3", "MP3 audio"),
    (0, b"OggS", "Ogg media"),
    (0, b"fLaC", "FLAC audio"),
    (0, b"\x1a\x45\xdf\xa3", "Matroska/WebM video"),
]
_RIFF_KINDS = {b"WEBP": "WebP image", b"WAVE": "WAV audio", b"AVI ": "AVI video"}
_FTYP_IMAGES = {b"heic", b"heix", b"heif", b"mif1", b"msf1", b"avif"}

# OLE2 directory entry names → what the legacy Office file is.
_OLE2_KINDS = [
    ("EncryptedPackage", "password-protected Office document"),
    ("WordDocument", "legacy Word .doc"),
    ("Workbook", "legacy Excel .xls"),
    ("Book", "legacy Excel .xls"),
    ("PowerPoint Document", "legacy PowerPoint .ppt"),
    ("__properties_version1.0", "Outlook message (.msg)"),
]
_ODF_KINDS = {
    "application/vnd.oasis.opendocument.spreadsheet": "OpenDocument spreadsheet (.ods)",
    "application/vnd.oasis.opendocument.presentation": "OpenDocument presentation (.odp)",
    "application/vnd.oasis.opendocument.graphics": "OpenDocument drawing (.odg)",
    "application/vnd.oasis.opendocument.text-template": "OpenDocument text template (.ott)",
    "application/epub+zip": "EPUB e-book",
}
_OOXML_KINDS = [
    ("xl/workbook.xml", "Excel workbook (.xlsx)"),
    ("ppt/presentation.xml", "PowerPoint presentation (.pptx)"),
    ("word/glossary/document.xml", "Word template"),
]

# Characters a text file should not contain (besides tab, newline, carriage return and form feed).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")
TEXT_MIN_PRINTABLE = 0.95
CHUNK = 1 << 20


def sniff(source: Source, *, max_bytes: int | None = None, limits: Limits = DEFAULT_LIMITS) -> FileType:
    """The document type of ``source`` (path or binary file); raises ExtractionError for anything else.

    Codes: ``empty_file``, ``too_large`` (only when ``max_bytes`` is given), ``unsupported_type`` (message names
    the content found), ``corrupt_file`` (damaged container or one breaking the ZIP limits).
    """
    with opened(source) as fh:
        size = size_of(fh)
        if size == 0:
            raise ExtractionError(EMPTY_FILE, "The file is empty.")
        if max_bytes is not None and size > max_bytes:
            raise ExtractionError(TOO_LARGE, f"The file is larger than {max_bytes // 1_000_000} MB.")
        head = fh.read(HEAD_BYTES)
        fh.seek(0)
        if b"%PDF-" in head[:1024]:
            return FileType.PDF
        if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{\\rtf"):
            return FileType.RTF
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return _sniff_zip(fh, limits)
        if head.startswith(OLE2_MAGIC):
            raise _unsupported(_ole2_kind(fh))
        found = _binary_kind(head, size)
        if found:
            raise _unsupported(found)
        if _is_text(fh):
            return FileType.TXT
        raise _unsupported("an unrecognised binary file")


def _unsupported(found: str) -> ExtractionError:
    return ExtractionError(
        UNSUPPORTED_TYPE,
        f"Unsupported file type: {found}. Upload a PDF, Word .docx, OpenDocument .odt, RTF or text file.",
    )


def _sniff_zip(fh: BinaryIO, limits: Limits) -> FileType:
    archive = open_zip(fh, limits)
    names = set(archive.namelist())
    if "[Content_Types].xml" in names and "word/document.xml" in names:
        return FileType.DOCX
    if "mimetype" in names:
        mimetype = read_member(archive, "mimetype", 256).decode("ascii", "replace").strip()
        if mimetype == ODT_MIMETYPE:
            return FileType.ODT
        raise _unsupported(_ODF_KINDS.get(mimetype, "a ZIP-based document that is not a word-processor file"))
    for marker, kind in _OOXML_KINDS:
        if marker in names:
            raise _unsupported(kind)
    if "META-INF/MANIFEST.MF" in names:
        raise _unsupported("Java archive")
    raise _unsupported("ZIP archive")


def _binary_kind(head: bytes, size: int) -> str | None:
    if head.startswith(b"%!PS"):
        return "PostScript document"
    binary = b"\x00" in head
    for offset, magic, kind in _SIGNATURES:
        if head[offset : offset + len(magic)] == magic and (binary or not _printable(magic)):
            return kind
    if head[:4] == b"RIFF" and head[8:12] in _RIFF_KINDS:
        return _RIFF_KINDS[head[8:12]]
    if head[4:8] == b"ftyp":
        return "HEIF/AVIF image" if head[8:12] in _FTYP_IMAGES else "MP4/QuickTime video"
    if binary and head[:2] == b"BM" and len(head) >= 6 and struct.unpack("<I", head[2:6])[0] == size:
        return "BMP image"
    return None


def _printable(magic: bytes) -> bool:
    return all(0x20 <= byte < 0x7F for byte in magic)


def _ole2_kind(fh: BinaryIO) -> str:
    """Name a Compound File Binary by the streams in its directory (bounded walk of the directory chain)."""
    names = set(_ole2_names(fh))
    for stream, kind in _OLE2_KINDS:
        if stream in names:
            return kind
    return "legacy Microsoft Office file (OLE2)"


def _ole2_names(fh: BinaryIO, max_sectors: int = 64) -> list[str]:
    header = fh.read(512)
    if len(header) < 512:
        return []
    sector_size = 1 << struct.unpack_from("<H", header, 30)[0]
    if sector_size not in (512, 4096):
        return []
    directory_start = struct.unpack_from("<i", header, 48)[0]
    difat = struct.unpack_from("<109i", header, 76)
    per_fat_sector = sector_size // 4

    def read_sector(sector_id: int) -> bytes:
        fh.seek((sector_id + 1) * sector_size)
        return fh.read(sector_size)

    def next_sector(sector_id: int) -> int:
        fat_index, entry = divmod(sector_id, per_fat_sector)
        if fat_index >= len(difat) or difat[fat_index] < 0:
            return -1
        fat = read_sector(difat[fat_index])
        return struct.unpack_from("<i", fat, entry * 4)[0] if len(fat) == sector_size else -1

    names, sector_id, seen = [], directory_start, set()
    while sector_id >= 0 and sector_id not in seen and len(seen) < max_sectors:
        seen.add(sector_id)
        sector = read_sector(sector_id)
        for offset in range(0, len(sector) - 127, 128):
            length = struct.unpack_from("<H", sector, offset + 64)[0]
            if 2 <= length <= 64:
                names.append(sector[offset : offset + length - 2].decode("utf-16-le", "replace"))
        sector_id = next_sector(sector_id)
    return names


def _is_text(fh: BinaryIO) -> bool:
    """One streaming pass: UTF-8 (BOM allowed), UTF-16 with BOM, or cp1252, each mostly printable."""
    first = fh.read(CHUNK)
    if first.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        candidates = {"utf-16": _TextCheck("utf-16")}
    elif b"\x00" in first:
        return False
    else:
        candidates = {"utf-8-sig": _TextCheck("utf-8-sig"), "cp1252": _TextCheck("cp1252")}
    chunk = first
    while chunk and candidates:
        if b"\x00" in chunk and "utf-16" not in candidates:
            return False
        for name in [n for n, check in candidates.items() if not check.feed(chunk)]:
            del candidates[name]
        chunk = fh.read(CHUNK)
    return any(check.finish() for check in candidates.values())


class _TextCheck:
    """Incrementally decodes one candidate encoding and counts control characters."""

    def __init__(self, encoding: str) -> None:
        self.decoder = codecs.getincrementaldecoder(encoding)("strict")
        self.chars = 0
        self.controls = 0

    def feed(self, data: bytes, final: bool = False) -> bool:
        try:
            text = self.decoder.decode(data, final)
        except UnicodeDecodeError:
            return False
        self.chars += len(text)
        self.controls += len(_CONTROL.findall(text))
        return True

    def finish(self) -> bool:
        if not self.feed(b"", final=True):
            return False
        return self.chars > 0 and self.controls <= (1 - TEXT_MIN_PRINTABLE) * self.chars
