"""Names in Latin-extended and non-Latin scripts are drawn with real glyphs, never .notdef boxes."""

import logging

import pytest

from core.rendering import build_context, render_pdf
from tests.core.rendering.pdftools import font_encodings, glyphs_of

NAMES = [
    # (given name, text with it, font family expected to draw the script)
    ("Łucja", "Łucja Wiśniewska – Żółć gęślą jaźń", "Noto-Sans"),
    ("Siobhán", "Siobhán Ó Súilleabháin", "Noto-Sans"),
    ("সুমাইয়া", "সুমাইয়া রহমান", "Noto-Sans-Bengali"),
    ("فاطمة", "فاطمة الأمين", "Noto-Sans-Arabic"),
]


def _render(name: str, text: str, branding) -> bytes:
    context = build_context({"name": name, "professional_profile": text, "qualifications": [text]})
    return render_pdf(context, branding)


def _notdef_warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "weasyprint" and ".notdef" in r.getMessage()]


@pytest.mark.parametrize(("name", "text", "family"), NAMES)
def test_script_is_drawn_with_real_glyphs(name, text, family, plain_branding, caplog):
    caplog.set_level(logging.WARNING, logger="weasyprint")

    pdf = _render(name, text, plain_branding)

    assert _notdef_warnings(caplog) == []
    # WeasyPrint leaves Identity-H only when no glyph had to be replaced by .notdef.
    assert set(font_encodings(pdf).values()) == {"/Identity-H"}
    letters = {ch for ch in text if ch.isalpha() and not ch.isascii()}
    drawn = [g for g in glyphs_of(pdf) if g.text and set(g.text) & letters]
    assert drawn, "the script's characters are in the text layer"
    assert all(g.glyph_id != 0 for g in drawn)  # glyph ids are kept when subsetting; 0 is .notdef
    assert {g.font.removesuffix("-Bold").removesuffix("-Italic") for g in drawn} == {family}


def test_control_uncovered_character_is_detected(plain_branding, caplog):
    """Proves the checks above can fail: an unassigned code point has no glyph in any font."""
    caplog.set_level(logging.WARNING, logger="weasyprint")

    pdf = _render("Ana", "Ana \u0378 Silva", plain_branding)

    assert _notdef_warnings(caplog)
    assert "custom-cmap" in font_encodings(pdf).values()
