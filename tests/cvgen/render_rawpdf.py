"""Hand-assembled PDFs whose content streams a test controls byte for byte (tokeniser and hostile-file tests).

``raw_pdf`` writes a classic cross-reference table, one Helvetica font resource (``/F1``) and the given page
content streams; ``stream`` is compressed with FlateDecode unless ``compress=False`` or ``encoded`` is given.
"""

import io
import zlib


def raw_pdf(
    contents: list[bytes] | bytes,
    *,
    compress: bool = True,
    encoded: bytes | None = None,
    pages: int | None = None,
    extra_objects: list[bytes] = (),
    xobjects: bytes = b"",
) -> bytes:
    """A PDF whose pages draw ``contents`` (one stream per page; a single stream may serve ``pages`` pages).

    ``encoded``: an already-compressed FlateDecode stream used instead of ``contents`` (decompression bombs).
    ``extra_objects`` are appended as objects 1000+ (referenced from ``xobjects``, a resources fragment).
    """
    streams = [contents] if isinstance(contents, bytes) else list(contents)
    page_count = pages or len(streams)
    objects: dict[int, bytes] = {
        1: b"<< /Type /Catalog /Pages 2 0 R >>",
        3: b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    }
    kids = []
    for index, data in enumerate(streams):
        number = 10 + index
        if encoded is not None:
            body, filters = encoded, b" /Filter /FlateDecode"
        elif compress:
            body, filters = zlib.compress(data), b" /Filter /FlateDecode"
        else:
            body, filters = data, b""
        objects[number] = b"<< /Length %d%s >>\nstream\n" % (len(body), filters) + body + b"\nendstream"
    first_page = 10 + len(streams)
    for index in range(page_count):
        number = first_page + index
        content = 10 + min(index, len(streams) - 1)
        objects[number] = (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R "
            b"/Resources << /Font << /F1 3 0 R >> %s >> >>" % (content, xobjects)
        )
        kids.append(b"%d 0 R" % number)
    objects[2] = b"<< /Type /Pages /Kids [" + b" ".join(kids) + b"] /Count %d >>" % page_count
    for index, data in enumerate(extra_objects):
        objects[1000 + index] = data
    return _assemble(objects)


def _assemble(objects: dict[int, bytes]) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = {}
    for number in sorted(objects):
        offsets[number] = out.tell()
        out.write(b"%d 0 obj\n" % number + objects[number] + b"\nendobj\n")
    xref = out.tell()
    size = max(objects) + 1
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % size)
    for number in range(1, size):
        out.write(b"%010d 00000 n \n" % offsets[number] if number in offsets else b"0000000000 65535 f \n")
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (size, xref))
    return out.getvalue()


def text_line(x: float, y: float, text: str, size: float = 11) -> bytes:
    """Content drawing ``text`` (Latin-1) with its baseline starting at (x, y)."""
    escaped = text.encode("latin-1").replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"BT /F1 %g Tf %g %g Td (%s) Tj ET\n" % (size, x, y, escaped)
