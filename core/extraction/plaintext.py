"""Plain-text decoding with the rules the sniffer accepted it under (pipeline.md §4)."""

import codecs
from typing import BinaryIO

from core.extraction.limits import Limits


def read_plain_text(fh: BinaryIO, limits: Limits) -> str:
    return decode_text(fh.read(limits.max_file_bytes + 1))


def decode_text(data: bytes) -> str:
    """UTF-8 (BOM allowed), UTF-16 with a BOM, else cp1252 (undefined bytes become U+FFFD)."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16", "replace")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", "replace")
