"""Text extraction: reading order of real layouts, DOCX/ODT/RTF/TXT structure, normalisation, scanned rule, OCR."""

import io
import zlib

import pytest
from docx import Document
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pypdf import PdfReader

from core.extraction import text as text_module
from core.extraction.errors import ExtractionError
from core.extraction.filetypes import FileType, sniff
from core.extraction.limits import Budget, Limits
from core.extraction.pdf import open_document, read_pdf_text
from core.extraction.pdf_content import RunCollector, RunInterpreter
from core.extraction.text import extract_text, normalise_text
from tests.cvgen.layouts import LAYOUTS
from tests.cvgen.render_common import address, job_title_line
from tests.cvgen.render_pdf import edited_line
from tests.cvgen.render_rawpdf import raw_pdf, text_line
from tests.cvgen.render_samples import sample_profile

pytestmark = pytest.mark.sqlite

PROFILE = sample_profile(has_photo=True)


@pytest.fixture(scope="module")
def documents(tmp_path_factory):
    """Every layout rendered from the sample profile: layout → (path, extracted document)."""
    folder = tmp_path_factory.mktemp("layouts")
    out = {}
    for name, render in LAYOUTS.items():
        path = render(PROFILE, folder / name)
        out[name] = (path, extract_text(path, sniff(path)))
    return out


def flat(value: str) -> str:
    """Normalised the way extraction does, with line breaks and tabs as single spaces."""
    return " ".join(normalise_text(value)[0].split())


def position(document_text: str, item: str) -> int:
    found = flat(document_text).find(flat(item))
    assert found >= 0, f"{item!r} not found"
    return found


def in_order(document_text: str, items: list[str]) -> list[int]:
    positions = [position(document_text, item) for item in items]
    assert positions == sorted(positions), f"out of order: {items}"
    return positions


def facts(profile) -> list[str]:
    duties = [duty for job in profile.jobs for duty in job.responsibilities]
    return [profile.full_name, profile.email, profile.phone, *(j.role for j in profile.jobs),
            *(j.employer for j in profile.jobs), *(j.date_text for j in profile.jobs), *duties,
            *(e.qualification for e in profile.education), *profile.skills, *profile.qualifications]  # fmt: skip


@pytest.mark.parametrize("layout", [name for name in LAYOUTS if name != "scan"])
def test_every_layout_yields_every_fact_with_a_text_layer(documents, layout):
    _, document = documents[layout]
    assert (document.has_text_layer, document.ocr_used) == (True, False)
    for fact in facts(PROFILE):
        assert flat(document.text).count(flat(fact)) >= 1, fact
    assert flat(document.text).count(flat(PROFILE.email)) == 1


def left_and_right(profile) -> tuple[list[str], list[str]]:
    """The two-column layout's columns: profile, skills, qualifications (left); jobs and education (right)."""
    left = [profile.profile_text[:30], *profile.skills, *profile.qualifications, profile.interests]
    right = [
        item for job in profile.jobs for item in (job_title_line(job), job.date_text, *job.responsibilities)
    ]
    right += [e.qualification for e in profile.education]
    return left, right


@pytest.mark.parametrize("layout", ["pdf_two_column", "pdf_edited"])
def test_two_column_pdf_reads_column_by_column(documents, layout):
    _, document = documents[layout]
    left, right = left_and_right(PROFILE)
    in_order(document.text, [PROFILE.full_name, PROFILE.email])
    left_positions, right_positions = in_order(document.text, left), in_order(document.text, right)
    assert max(left_positions) < min(right_positions), "the columns are interleaved"
    assert position(document.text, PROFILE.email) < min(left_positions)


def test_sidebar_pdf_reads_the_sidebar_then_the_main_column(documents):
    _, document = documents["pdf_sidebar"]
    sidebar = [PROFILE.email, PROFILE.phone, address(PROFILE), *PROFILE.skills, *PROFILE.qualifications]
    main = [PROFILE.full_name, PROFILE.profile_text[:30], *left_and_right(PROFILE)[1]]
    assert max(in_order(document.text, sidebar)) < min(in_order(document.text, main))


def test_line_added_later_by_an_editor_lands_in_reading_order(documents):
    path, document = documents["pdf_edited"]
    line = edited_line(PROFILE)
    first = PROFILE.jobs[0]
    assert PdfReader(path).pages[0].extract_text().rstrip().endswith(line), "the fixture must draw it last"
    in_order(document.text, [*first.responsibilities[:-1], line, job_title_line(PROFILE.jobs[1])])


def test_dates_in_a_left_label_column_precede_their_entry(documents):
    _, document = documents["pdf_dates_left"]
    items = [
        item for job in PROFILE.jobs for item in (job.date_text, job_title_line(job), job.responsibilities[0])
    ]
    in_order(document.text, items)


def test_docx_header_contacts_come_after_the_body(documents):
    _, document = documents["docx_header"]
    in_order(
        document.text,
        [PROFILE.profile_text, PROFILE.jobs[-1].responsibilities[-1], PROFILE.email, PROFILE.phone],
    )


def test_docx_table_reads_rows_with_one_line_cells_as_tab_separated_lines(documents):
    _, document = documents["docx_table"]
    education = PROFILE.education[0]
    expected = f"{flat(education.date_text)}\t{education.qualification}, {education.institution}"
    assert expected in document.text.splitlines()
    in_order(document.text, [item for job in PROFILE.jobs for item in (job.date_text, job_title_line(job))])


def test_docx_text_box_is_read_once_after_the_body(documents):
    _, document = documents["docx_textbox"]
    for skill in PROFILE.skills:
        assert document.text.count(skill) == 1  # the VML fallback copy is not read again
    in_order(document.text, [PROFILE.profile_text, PROFILE.email, PROFILE.skills[0]])


def test_odt_lists_become_bullets_and_tables_rows(documents):
    _, document = documents["odt"]
    lines = document.text.splitlines()
    assert f"• {PROFILE.qualifications[0]}" in lines
    education = PROFILE.education[1]
    assert f"{flat(education.date_text)}\t{education.qualification}, {education.institution}" in lines


def test_rtf_keeps_header_contacts_and_list_bullets(documents):
    _, document = documents["rtf"]
    assert PROFILE.email in document.text
    assert f"• {PROFILE.qualifications[1]}" in document.text.splitlines()


def test_scanned_pdf_is_read_by_ocr(documents):
    _, document = documents["scan"]
    assert (document.ocr_used, document.has_text_layer) == (True, False)
    assert "text from OCR" in document.warnings
    assert PROFILE.email in document.text
    assert PROFILE.full_name.lower() in document.text.lower()


def test_scanned_pdf_without_ocr_has_no_text_layer(documents, monkeypatch):
    path, _ = documents["scan"]
    monkeypatch.setattr(text_module, "tesseract_path", lambda: None)
    with pytest.raises(ExtractionError) as caught:
        extract_text(path, FileType.PDF)
    assert caught.value.code == "no_text_layer"
    assert "scanned" in caught.value.message.lower()


def test_ocr_can_be_switched_off(documents):
    path, _ = documents["scan"]
    with pytest.raises(ExtractionError) as caught:
        extract_text(path, "pdf", ocr=False)
    assert caught.value.code == "no_text_layer"


def test_sparse_text_layer_counts_as_scanned():
    sparse = raw_pdf([text_line(72, 800, "Page header only")] * 2)
    with pytest.raises(ExtractionError) as caught:
        extract_text(io.BytesIO(sparse), FileType.PDF, ocr=False)
    assert caught.value.code == "no_text_layer"
    assert caught.value.message.endswith("characters of text, fewer than the 200 a CV needs.")


def test_short_document_fails_the_scanned_rule_for_every_format():
    with pytest.raises(ExtractionError) as caught:
        extract_text(io.BytesIO(b"Harriet Quinlan\nTeacher\n"), FileType.TXT)
    assert caught.value.code == "no_text_layer"
    assert caught.value.message == (
        "Scanned or image-only document: 21 characters of text, fewer than the 200 a CV needs."
    )


@pytest.mark.parametrize("encoded", [
    "Café crèche – naïve\n".encode("cp1252"),
    "Café crèche – naïve\n".encode("utf-8-sig"),
    "\ufeffCafé crèche – naïve\n".encode("utf-16-le"),
])  # fmt: skip
def test_plain_text_decodings(encoded):
    document = extract_text(io.BytesIO(encoded * 20), FileType.TXT)
    assert document.text.splitlines()[0] == "Café crèche - naïve"


def test_unknown_file_type_is_unsupported():
    with pytest.raises(ExtractionError) as caught:
        extract_text(io.BytesIO(b"text " * 100), "doc")
    assert caught.value.code == "unsupported_type"


# --- PDF internals ---------------------------------------------------------------------------------------------


def runs_with(interpreter_class, path) -> list[tuple]:
    limits = Limits()
    with open(path, "rb") as fh:
        document = open_document(fh)
        resources = PDFResourceManager()
        device = RunCollector(resources, Budget(limits))
        interpreter = interpreter_class(resources, device)
        out = []
        for page in PDFPage.create_pages(document):
            interpreter.process_page(page)
            out += [
                (round(r.x0, 2), round(r.x1, 2), round(r.baseline, 2), r.text) for r in device.take_runs()
            ]
    return out


@pytest.mark.parametrize("layout", ["pdf_sidebar", "pdf_edited"])
def test_fast_content_tokeniser_matches_pdfminer_interpreter(documents, layout):
    path, _ = documents[layout]
    assert runs_with(RunInterpreter, path) == runs_with(PDFPageInterpreter, path)


def test_content_tokeniser_handles_strings_arrays_names_and_inline_images():
    content = (
        b"BT /F#31 12 Tf 72 700 Td (Nested \\(paren\\) (ok) \\101\\102\\\nC) Tj ET\n"
        b"BI /W 2 /H 2 /BPC 8 /CS /G ID \x00\xffEI\x00\xff EI\n"
        b"BT /F1 12 Tf 72 680 Td [(Ke) -250 <726e> 0 (ing)] TJ ET % a comment (not text)\n"
        b"BT /F1 12 Tf 72 660 Td <48656c6c6f2> Tj ET\n"
    )
    pages = read_pdf_text(
        io.BytesIO(raw_pdf(content.replace(b"/F#31", b"/F1"))), Limits(), Budget(Limits())
    ).pages
    assert pages[0].splitlines() == ["Nested (paren) (ok) ABC", "Ke rning", "Hello"]


def test_fragments_on_one_baseline_are_merged_whatever_the_stream_order():
    content = (
        text_line(200, 700, "world, in the middle") + text_line(72, 700, "Hello") + text_line(72, 640, "Next")
    )
    document = read_pdf_text(io.BytesIO(raw_pdf(content, compress=False)), Limits(), Budget(Limits()))
    assert document.pages[0].splitlines()[0] == "Hello\tworld, in the middle"


def test_pdf_pages_beyond_the_limit_are_not_read():
    pdf = raw_pdf(text_line(72, 700, "A line of curriculum vitae text " * 3), pages=25)
    document = read_pdf_text(io.BytesIO(pdf), Limits(max_pages=20), Budget(Limits()))
    assert len(document.pages) == 20
    assert "only the first 20 of 25 pages were read" in document.warnings


def test_rotated_text_is_skipped_with_a_warning():
    rotated = b"BT /F1 40 Tf 0.7 0.7 -0.7 0.7 200 300 Tm (CONFIDENTIAL) Tj ET\n"
    pdf = raw_pdf(rotated + text_line(72, 700, "Upright text stays"), compress=False)
    document = read_pdf_text(io.BytesIO(pdf), Limits(), Budget(Limits()))
    assert document.pages == ["Upright text stays"]
    assert "rotated or vertical text was ignored" in document.warnings


# --- normalisation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("raw", "expected"), [
    ("ﬁrst ﬂoor", "first floor"),
    ("2015 – 2018 — Present − x ‒ y", "2015 - 2018 - Present - x - y"),
    ("● Phonics\n\uf0b7 Maths\n▪ Art", "• Phonics\n• Maths\n• Art"),
    ("· Reading\nMaths · English", "• Reading\nMaths · English"),
    ("Maths•English", "Maths • English"),
    ("a   b\u00a0\u00a0c", "a b c"),
    ("Teacher  \t  2019", "Teacher\t2019"),
    ("  indented  \ntrailing   ", "indented\ntrailing"),
    ("experi-\nence", "experience"),
    ("Anglo-\nSaxon", "Anglo-\nSaxon"),
    ("2015-\n2018", "2015-\n2018"),
    ("a\r\nb\rc\fd", "a\nb\nc\nd"),
    ("zero\u200bwidth soft\u00adhyphen \x07bell", "zerowidth softhyphen bell"),
    ("a\n\n\n\n\nb", "a\n\nb"),
])  # fmt: skip
def test_normalisation_rules(raw, expected):
    assert normalise_text(raw) == (expected, False)


def test_text_is_capped_at_a_word_boundary():
    text, truncated = normalise_text("word " * 20_000, Limits(max_text_chars=60_000))
    assert truncated
    assert len(text) <= 60_000
    assert text.endswith("word")


def test_raw_text_beyond_the_character_allowance_is_cut_before_normalising():
    text, truncated = normalise_text("x" * 100, Limits(max_chars=50, max_text_chars=60_000))
    assert (len(text), truncated) == (50, True)


def test_text_of_a_compressed_and_an_uncompressed_stream_is_identical():
    content = text_line(72, 700, "Same words either way")
    plain = read_pdf_text(io.BytesIO(raw_pdf(content, compress=False)), Limits(), Budget(Limits()))
    packed = read_pdf_text(
        io.BytesIO(raw_pdf(b"", encoded=zlib.compress(content))), Limits(), Budget(Limits())
    )
    assert plain.pages == packed.pages == ["Same words either way"]


def test_docx_beyond_the_character_allowance_keeps_its_beginning():
    document = Document()
    for index in range(300):
        document.add_paragraph(f"Paragraph {index:03d} of a very long curriculum vitae with an appendix.")
    buffer = io.BytesIO()
    document.save(buffer)
    extracted = extract_text(io.BytesIO(buffer.getvalue()), FileType.DOCX, limits=Limits(max_chars=5_000))
    assert extracted.text.startswith("Paragraph 000")
    assert "Paragraph 299" not in extracted.text
    assert "reading stopped early: characters budget spent" in extracted.warnings
