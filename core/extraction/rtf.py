"""RTF text: control words stripped by striprtf, after two rewrites it would otherwise lose.

striprtf drops header/footer groups (where contact details often sit) and list-number groups (the bullet
glyphs); both are turned into ordinary text first.
"""

import codecs
import re
from typing import BinaryIO

from striprtf.striprtf import rtf_to_text

from core.extraction.errors import CORRUPT_FILE, ExtractionError, describe
from core.extraction.limits import Limits

_CODEPAGE = re.compile(rb"\\ansicpg(\d{3,5})")
_HEADER_FOOTER = re.compile(rb"\{\\(?:header|footer)[lrf]?(?![a-z])")
_LIST_MARKER = re.compile(rb"\{\\(?:pntext|listtext)(?:[^{}\\]|\\[^{}])*\}")


def read_rtf_text(fh: BinaryIO, limits: Limits) -> str:
    data = fh.read(limits.max_file_bytes + 1)
    encoding = _encoding(data)
    data = _HEADER_FOOTER.sub(rb"{", data)
    data = _LIST_MARKER.sub(rb"\\'95 ", data)  # cp1252 0x95 is the bullet
    try:
        return rtf_to_text(data.decode(encoding, "replace"), encoding=encoding, errors="replace")
    except Exception as exc:  # striprtf raises assorted errors on malformed control words
        raise ExtractionError(CORRUPT_FILE, "The RTF document is damaged.", describe(exc))


def _encoding(data: bytes) -> str:
    """The code page the document declares (``\\ansicpgNNNN``), cp1252 when absent or unknown."""
    match = _CODEPAGE.search(data, 0, 4096)
    if match:
        name = f"cp{int(match.group(1))}"
        try:
            codecs.lookup(name)
            return name
        except LookupError:
            pass
    return "cp1252"
