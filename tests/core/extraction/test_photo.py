"""Photo extraction (pipeline.md §7.5): the portrait is found, logos and icons are not, errors are warnings."""

import io
import zipfile

import pytest
from docx import Document
from docx.shared import Cm
from PIL import Image
from weasyprint import HTML

from core.extraction.filetypes import FileType, sniff
from core.extraction.photo import extract_photo, to_jpeg
from tests.cvgen.layouts import LAYOUTS
from tests.cvgen.render_common import photo_jpeg
from tests.cvgen.render_pdf import data_uri
from tests.cvgen.render_samples import sample_profile

pytestmark = pytest.mark.sqlite

PHOTO_LAYOUTS = [
    "pdf_two_column", "pdf_sidebar", "pdf_dates_left", "pdf_edited", "docx_table", "docx_header", "docx_textbox", "odt"
]  # fmt: skip


def jpeg_image(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


@pytest.mark.parametrize("layout", PHOTO_LAYOUTS)
def test_portrait_is_extracted_and_the_school_logo_is_not(tmp_path, layout):
    with_photo = LAYOUTS[layout](sample_profile(has_photo=True), tmp_path / "with")
    without = LAYOUTS[layout](sample_profile(has_photo=False), tmp_path / "without")
    image = jpeg_image(extract_photo(with_photo, sniff(with_photo)))
    assert image.size == (300, 360)
    assert extract_photo(without, sniff(without)) is None


@pytest.mark.parametrize("layout", ["rtf", "txt", "scan"])
def test_documents_without_image_objects_give_no_photo(tmp_path, layout):
    path = LAYOUTS[layout](sample_profile(has_photo=True), tmp_path / "cv")
    assert extract_photo(path, sniff(path)) is None


def test_output_is_a_small_jpeg_without_metadata_and_upright():
    source = Image.new("RGB", (1200, 1500), (200, 120, 90))
    source.paste((10, 10, 10), (0, 0, 1200, 300))  # dark band at the top of the stored pixels
    exif = Image.Exif()
    exif[0x0112] = 3  # orientation: rotated 180°, so the band belongs at the bottom
    exif[0x010F] = "PhoneMaker"
    buffer = io.BytesIO()
    source.save(buffer, "JPEG", exif=exif, quality=90)
    image = jpeg_image(to_jpeg(Image.open(io.BytesIO(buffer.getvalue()))))
    assert max(image.size) <= 600
    assert not image.getexif()
    assert "icc_profile" not in image.info and "exif" not in image.info
    assert image.getpixel((image.width // 2, image.height - 5))[0] < 60  # band now at the bottom


def docx_with(images: list[tuple[bytes, str]]) -> bytes:
    """A DOCX with each image placed in the body or the header (``where``)."""
    document = Document()
    document.add_paragraph("Harriet Quinlan, Class Teacher")
    for data, where in images:
        paragraph = (
            document.sections[0].header.paragraphs[0] if where == "header" else document.add_paragraph()
        )
        paragraph.add_run().add_picture(io.BytesIO(data), width=Cm(3))
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def png(size: tuple[int, int], noisy: bool = True) -> bytes:
    image = Image.effect_noise(size, 60).convert("RGB") if noisy else Image.new("RGB", size, (9, 9, 9))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def test_photo_in_the_page_header_is_found():
    data = docx_with([(photo_jpeg(sample_profile()), "header")])
    assert jpeg_image(extract_photo(io.BytesIO(data), FileType.DOCX)).size == (300, 360)


def test_image_used_twice_is_not_the_photo():
    portrait = photo_jpeg(sample_profile())
    data = docx_with([(portrait, "body"), (portrait, "header")])
    assert extract_photo(io.BytesIO(data), FileType.DOCX) is None


@pytest.mark.parametrize("image", [
    png((80, 90)),  # an icon: under 96 px
    png((400, 120)),  # a banner logo: too wide
    png((120, 300)),  # too tall
    png((200, 220), noisy=False),  # a flat square: under 2 KB encoded
])  # fmt: skip
def test_ineligible_images_are_ignored(image):
    assert extract_photo(io.BytesIO(docx_with([(image, "body")])), FileType.DOCX) is None


def test_largest_eligible_image_wins():
    small, large = png((120, 130)), png((240, 260))
    photo = extract_photo(io.BytesIO(docx_with([(small, "body"), (large, "body")])), FileType.DOCX)
    assert jpeg_image(photo).size == (240, 260)


def test_pdf_photo_below_the_top_of_the_page_is_ignored():
    portrait = data_uri(photo_jpeg(sample_profile()), "image/jpeg")
    html = f'<p>Harriet Quinlan</p><img style="margin-top: 160mm; width: 30mm" src="{portrait}">'
    assert extract_photo(io.BytesIO(HTML(string=html).write_pdf()), FileType.PDF) is None
    top = f'<img style="width: 30mm" src="{portrait}"><p>Harriet Quinlan</p>'
    assert extract_photo(io.BytesIO(HTML(string=top).write_pdf()), FileType.PDF) is not None


def test_damaged_documents_give_a_warning_not_an_exception():
    warnings: list[str] = []
    assert extract_photo(io.BytesIO(b"%PDF-1.7\n garbage"), FileType.PDF, warnings=warnings) is None
    assert warnings and warnings[0].startswith("photo not extracted")


def test_damaged_image_data_is_skipped():
    data = io.BytesIO(docx_with([(photo_jpeg(sample_profile()), "body")]))
    damaged = io.BytesIO()
    with zipfile.ZipFile(data) as source, zipfile.ZipFile(damaged, "w") as target:
        for item in source.infolist():
            body = source.read(item)
            target.writestr(
                item, body[:20] + bytes(len(body) - 20) if item.filename.startswith("word/media/") else body
            )
    warnings: list[str] = []
    assert extract_photo(damaged, FileType.DOCX, warnings=warnings) is None
