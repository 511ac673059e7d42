"""Content sniffing (pipeline.md §4): accepted types, named rejections, ZIP limits, path and file sources."""

import codecs
import io
import struct
import zipfile

import pytest

from core.extraction.errors import ExtractionError
from core.extraction.filetypes import FileType, sniff
from tests.cvgen.layouts import LAYOUTS
from tests.cvgen.render_samples import sample_profile

pytestmark = pytest.mark.sqlite

TEXT = "Harriet Quinlan, Class Teacher. Café, crèche and naïve résumé – a CV.\n"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sniff")
    profile = sample_profile(has_photo=True)
    return {
        name: LAYOUTS[name](profile, folder / name)
        for name in ("pdf_sidebar", "docx_header", "odt", "rtf", "txt")
    }


def rejection(data: bytes, **kwargs) -> ExtractionError:
    with pytest.raises(ExtractionError) as caught:
        sniff(io.BytesIO(data), **kwargs)
    return caught.value


def zip_bytes(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def ole2(stream_name: str) -> bytes:
    """A minimal Compound File Binary: header, one FAT sector, one directory sector (root + one stream)."""
    header = bytearray(512)
    header[:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 24, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<iii", header, 44, 1, 1, 0)  # one FAT sector, directory starts at sector 1
    struct.pack_into("<109i", header, 76, 0, *([-1] * 108))
    fat = struct.pack("<128i", -3, -2, *([-1] * 126))
    directory = bytearray(512)
    for index, (name, kind) in enumerate([("Root Entry", 5), (stream_name, 2)]):
        encoded = (name + "\0").encode("utf-16-le")
        directory[index * 128 : index * 128 + len(encoded)] = encoded
        struct.pack_into("<HB", directory, index * 128 + 64, len(encoded), kind)
    return bytes(header) + fat + bytes(directory)


@pytest.mark.parametrize(("layout", "expected"), [
    ("pdf_sidebar", FileType.PDF), ("docx_header", FileType.DOCX), ("odt", FileType.ODT),
    ("rtf", FileType.RTF), ("txt", FileType.TXT),
])  # fmt: skip
def test_rendered_documents_are_recognised_by_content_not_extension(rendered, tmp_path, layout, expected):
    misnamed = tmp_path / "upload.doc"
    misnamed.write_bytes(rendered[layout].read_bytes())
    assert sniff(misnamed) is expected
    assert sniff(str(misnamed)) is expected


def test_file_object_is_sniffed_without_moving_its_position(rendered):
    with open(rendered["pdf_sidebar"], "rb") as fh:
        fh.seek(7)
        assert sniff(fh) is FileType.PDF
        assert fh.tell() == 7


def test_pdf_header_may_follow_junk_within_the_first_kilobyte():
    assert sniff(io.BytesIO(b"\x00" * 900 + b"%PDF-1.7\n...")) is FileType.PDF
    assert rejection(b"\x00" * 1100 + b"%PDF-1.7\n").code == "unsupported_type"


@pytest.mark.parametrize("encoded", [
    TEXT.encode("utf-8"),
    codecs.BOM_UTF8 + TEXT.encode("utf-8"),
    codecs.BOM_UTF16_LE + TEXT.encode("utf-16-le"),
    codecs.BOM_UTF16_BE + TEXT.encode("utf-16-be"),
    TEXT.encode("cp1252"),
    b"<html><body><script>alert('cv')</script><p>Harriet Quinlan</p></body></html>",
    b"MZ Quinlan, teaching assistant",
])  # fmt: skip
def test_text_in_the_accepted_encodings_is_txt(encoded):
    assert sniff(io.BytesIO(encoded)) is FileType.TXT


@pytest.mark.parametrize(("data", "named"), [
    (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(200), "JPEG image"),
    (b"\x89PNG\r\n\x1a\n" + bytes(200), "PNG image"),
    (b"GIF89a" + bytes(50), "GIF image"),
    (b"%!PS-Adobe-3.0\n%%Title: cv\n", "PostScript document"),
    (b"MZ\x90\x00\x03\x00\x00\x00" + bytes(200), "Windows executable"),
    (b"\x7fELF\x02\x01\x01" + bytes(100), "ELF executable"),
    (b"\x1f\x8b\x08\x00" + bytes(50), "gzip archive"),
    (b"Rar!\x1a\x07\x01\x00" + bytes(50), "RAR archive"),
    (b"7z\xbc\xaf\x27\x1c" + bytes(50), "7-Zip archive"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 " + bytes(50), "WebP image"),
    (bytes(range(256)) * 20, "unrecognised binary file"),
])  # fmt: skip
def test_other_content_is_rejected_naming_what_it_is(data, named):
    error = rejection(data)
    assert error.code == "unsupported_type"
    assert named in error.message


@pytest.mark.parametrize(("stream", "named"), [
    ("WordDocument", "legacy Word .doc"),
    ("Workbook", "legacy Excel .xls"),
    ("EncryptedPackage", "password-protected Office document"),
])  # fmt: skip
def test_ole2_files_are_named_from_their_directory(stream, named):
    error = rejection(ole2(stream))
    assert (error.code, named in error.message) == ("unsupported_type", True)


@pytest.mark.parametrize(("members", "named"), [
    ({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"}, "Excel workbook"),
    ({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}, "OpenDocument spreadsheet"),
    ({"[Content_Types].xml": b"<Types/>"}, "ZIP archive"),
    ({"photos/cv.jpg": b"\xff\xd8\xff" + bytes(100)}, "ZIP archive"),
])  # fmt: skip
def test_zip_containers_that_are_not_word_processing_documents_are_named(members, named):
    error = rejection(zip_bytes(members))
    assert (error.code, named in error.message) == ("unsupported_type", True)


def test_minimal_docx_and_odt_containers_are_recognised():
    docx = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    odt = zip_bytes({"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
    assert (sniff(io.BytesIO(docx)), sniff(io.BytesIO(odt))) == (FileType.DOCX, FileType.ODT)


def test_zip_with_too_many_entries_is_corrupt():
    members = {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}
    members |= {f"word/media/{index}.txt": b"x" for index in range(2000)}
    assert rejection(zip_bytes(members)).code == "corrupt_file"


def test_zip_compressed_beyond_the_ratio_limit_is_corrupt():
    bomb = zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b" " * 30_000_000})
    error = rejection(bomb)
    assert error.code == "corrupt_file"
    assert "zip bomb" in error.message


def test_zip_declaring_more_than_100_mb_uncompressed_is_corrupt():
    data = bytearray(zip_bytes({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"}))
    entry = data.rfind(b"PK\x01\x02")  # the last central-directory entry: word/document.xml
    struct.pack_into("<I", data, entry + 24, 150_000_000)
    error = rejection(bytes(data))
    assert error.code == "corrupt_file"
    assert "allowed size" in error.message


def test_damaged_zip_is_corrupt():
    assert rejection(b"PK\x03\x04" + bytes(300)).code == "corrupt_file"


def test_empty_and_oversized_uploads_have_their_own_codes():
    assert rejection(b"").code == "empty_file"
    assert rejection(TEXT.encode() * 100, max_bytes=1000).code == "too_large"


def test_text_full_of_control_characters_is_not_txt():
    assert rejection(b"\x01\x02\x03abc\x04\x05\x06" * 100).code == "unsupported_type"


def test_file_type_carries_extension_and_media_type():
    assert (FileType.DOCX.extension, FileType.PDF.media_type) == ("docx", "application/pdf")
