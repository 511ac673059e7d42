"""ZIP containers (DOCX, ODT) opened under the spec's zip-bomb limits (pipeline.md §4).

Declared sizes are trustworthy bounds here: :mod:`zipfile` never inflates a member beyond its declared size
and rejects a member whose data disagrees with its CRC, so checking the central directory is enough.
"""

import zipfile
import zlib
from typing import BinaryIO

from core.extraction.errors import CORRUPT_FILE, ENCRYPTED, ExtractionError, describe
from core.extraction.limits import Limits

RATIO_FLOOR = 1024 * 1024  # members smaller than this cannot bomb; their ratio is not checked alone


def open_zip(fh: BinaryIO, limits: Limits) -> zipfile.ZipFile:
    """The archive in ``fh`` after its directory passed the entry, size and ratio limits."""
    try:
        archive = zipfile.ZipFile(fh)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ExtractionError(CORRUPT_FILE, "The ZIP container is damaged.", describe(exc))
    members = archive.infolist()
    if len(members) > limits.zip_max_entries:
        raise ExtractionError(
            CORRUPT_FILE, f"The ZIP container has more than {limits.zip_max_entries} entries."
        )
    total = sum(m.file_size for m in members)
    packed = sum(m.compress_size for m in members)
    if total > limits.zip_max_uncompressed:
        raise ExtractionError(CORRUPT_FILE, "The ZIP container expands to more than the allowed size.")
    if total > limits.zip_max_ratio * max(packed, 1) or any(
        m.file_size > RATIO_FLOOR and m.file_size > limits.zip_max_ratio * max(m.compress_size, 1)
        for m in members
    ):
        raise ExtractionError(CORRUPT_FILE, "The ZIP container is compressed suspiciously well (zip bomb).")
    return archive


def read_member(archive: zipfile.ZipFile, name: str, max_bytes: int) -> bytes:
    """One member's bytes; damaged, encrypted or oversized members are errors with a code."""
    try:
        info = archive.getinfo(name)
    except KeyError:
        raise ExtractionError(CORRUPT_FILE, f"The document is missing its {name} part.")
    if info.flag_bits & 0x1:
        raise ExtractionError(ENCRYPTED, "The document is password-protected.")
    if info.file_size > max_bytes:
        raise ExtractionError(CORRUPT_FILE, f"The document part {name} is too large.")
    try:
        return archive.read(info)
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        ValueError,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ) as exc:
        raise ExtractionError(CORRUPT_FILE, "The ZIP container is damaged.", describe(exc))
