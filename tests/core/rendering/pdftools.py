"""Reading rendered PDFs back: text, glyphs, fonts and images, to test what a recipient would see."""

from dataclasses import dataclass
from io import BytesIO

from pdfminer.converter import PDFPageAggregator
from pdfminer.high_level import extract_text
from pdfminer.layout import LAParams
from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
from pdfminer.pdfpage import PDFPage
from pypdf import PdfReader


def text_of(pdf: bytes) -> str:
    return extract_text(BytesIO(pdf))


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


@dataclass(frozen=True)
class Glyph:
    font: str  # base font name without the subset prefix, e.g. "Noto-Sans-Bengali-Bold"
    glyph_id: int  # WeasyPrint keeps original glyph ids when subsetting: 0 is .notdef
    text: str


class _GlyphRecorder(PDFPageAggregator):
    def __init__(self, resources: PDFResourceManager) -> None:
        super().__init__(resources, laparams=LAParams())
        self.glyphs: list[Glyph] = []

    def render_char(self, matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate):
        try:
            text = font.to_unichr(cid)
        except Exception:  # no ToUnicode entry: the glyph cannot be read back as text
            text = ""
        self.glyphs.append(Glyph(str(font.fontname).split("+")[-1], cid, text))
        return super().render_char(matrix, font, fontsize, scaling, rise, cid, ncs, graphicstate)


def glyphs_of(pdf: bytes) -> list[Glyph]:
    resources = PDFResourceManager()
    recorder = _GlyphRecorder(resources)
    interpreter = PDFPageInterpreter(resources, recorder)
    for page in PDFPage.get_pages(BytesIO(pdf)):
        interpreter.process_page(page)
    return recorder.glyphs


def font_encodings(pdf: bytes) -> dict[str, str]:
    """Embedded font → its encoding. WeasyPrint switches from Identity-H to a custom CMap only when it had to
    draw .notdef for characters that no installed font covers."""
    encodings = {}
    for page in PdfReader(BytesIO(pdf)).pages:
        fonts = page["/Resources"].get("/Font", {})
        for font in fonts.values():
            font = font.get_object()
            encoding = font.get("/Encoding")
            encodings[str(font["/BaseFont"]).split("+")[-1]] = (
                str(encoding) if isinstance(encoding, str) else "custom-cmap"
            )
    return encodings


def image_count(pdf: bytes) -> int:
    """Distinct raster images in the document (WeasyPrint may share one resource dictionary between pages)."""
    images = set()
    for page in PdfReader(BytesIO(pdf)).pages:
        for name, ref in page["/Resources"].get("/XObject", {}).items():
            if ref.get_object().get("/Subtype") == "/Image":
                images.add(getattr(ref, "idnum", name))
    return len(images)


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    return [
        (round(float(p.mediabox.width) * 25.4 / 72, 1), round(float(p.mediabox.height) * 25.4 / 72, 1))
        for p in PdfReader(BytesIO(pdf)).pages
    ]
