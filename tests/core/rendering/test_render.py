import re

import pypdfium2
import pytest
from PIL import Image

from core.rendering import Branding, RenderError, build_context, render_pdf
from tests.core.rendering.pdftools import font_encodings, image_count, page_sizes_mm, text_of
from tests.core.rendering.samples import make_branding, make_cv, pii

A4_MM = (210.0, 297.0)


def _squash(text: str) -> str:
    """Text without any whitespace, so letter-spacing or line wrapping cannot hide a match."""
    return re.sub(r"\s+", "", text).casefold()


def test_renders_a_branded_a4_cv(branding):
    cv = make_cv(0)
    pdf = render_pdf(build_context(cv), branding)
    text = text_of(pdf)
    flat = " ".join(text.split())

    assert pdf.startswith(b"%PDF-")
    assert all(size == A4_MM for size in page_sizes_mm(pdf))
    for expected in (
        "Łucja",
        " | ".join(cv["role"]),
        "Location: Bradford",
        f"Availability: {cv['availability']}",
        "Northern Schools Recruitment",
        branding.contact_line,
        branding.footer_text,
        "References available upon request",
        cv["employment_history"][0]["date_range"],
        cv["employment_history"][0]["responsibilities"][0],
        cv["qualifications"][0],
        cv["interests"],
    ):
        assert expected in flat
    squashed = _squash(text)
    for heading in ("Professional Profile", "Employment History", "Education & Qualifications", "Interests"):
        assert _squash(heading) in squashed
    first_job = cv["employment_history"][0]
    assert f"{first_job['company']} | {first_job['role']}" in flat


def test_empty_sections_are_left_out(plain_branding):
    text = _squash(text_of(render_pdf(build_context({"name": "Chidi"}), plain_branding)))

    assert "chidi" in text and "referencesavailableuponrequest" in text
    for heading in ("Professional Profile", "Employment History", "Qualifications", "Interests", "Location:"):
        assert _squash(heading) not in text


@pytest.mark.parametrize("seed", range(8))
def test_no_personal_data_reaches_the_pdf(seed, branding):
    """Candidate PII in non-rendered fields and in the overrides' noise never shows up in the PDF text."""
    cv = make_cv(seed)
    person = pii(seed)
    context = build_context(cv, full_name=person["full_name"], town=person["location"])
    pdf = render_pdf(context, branding)
    text = text_of(pdf)
    squashed, digits = _squash(text), re.sub(r"\D", "", text)

    # The text layer is complete (no font fell back to .notdef) and the positive controls are there.
    assert set(font_encodings(pdf).values()) == {"/Identity-H"}
    assert _squash(cv["employment_history"][0]["company"]) in squashed
    never_shown = (
        person["surname"],
        person["email"],
        person["street"],
        person["postcode"],
        *person["skill"],
        person["quality_check"],
        *person["quality_reasons"],
    )
    for value in never_shown:
        assert _squash(value) not in squashed, value
    assert re.sub(r"\D", "", person["whatsapp"])[-10:] not in digits
    assert image_count(pdf) == 0  # the SVG logo is vector art; no photo or other picture


@pytest.mark.parametrize("seed", [0, 1])
def test_the_pii_check_sees_pii_when_it_is_rendered(seed, plain_branding):
    """Control for the test above: the same extraction finds each value when it is in a rendered field."""
    person = pii(seed)
    values = [person["surname"], person["email"], person["street"], person["postcode"], person["whatsapp"]]
    pdf = render_pdf(build_context({"professional_profile": " ".join(values)}), plain_branding)
    text = text_of(pdf)

    for value in values[:4]:
        assert _squash(value) in _squash(text), value
    assert re.sub(r"\D", "", person["whatsapp"])[-10:] in re.sub(r"\D", "", text)


def test_logo_is_the_only_image(tmp_path):
    logo = tmp_path / "logo.png"
    Image.new("RGB", (120, 40), "#1F4E79").save(logo)
    branding = Branding("Agency", logo_path=str(logo))

    assert image_count(render_pdf(build_context(make_cv(4)), branding)) == 1


def test_cv_markup_is_shown_as_text_not_interpreted(plain_branding):
    hostile = '<b>Bold</b> & <script>alert("x")</script></li></ul><h1>Injected</h1>'
    context = build_context(
        {"name": "<i>Ana</i>", "qualifications": [hostile], "professional_profile": hostile}
    )

    text = " ".join(text_of(render_pdf(context, plain_branding)).split())

    assert "<i>Ana</i>" in text
    assert '<b>Bold</b> & <script>alert("x")</script></li></ul><h1>Injected</h1>' in text


def test_accent_colour_comes_from_branding():
    red, blue = "#C0392B", "#1F4E79"
    red_page, blue_page = (_first_page_pixels(make_branding(accent=colour)) for colour in (red, blue))

    assert _count_colour(red_page, red) > 100 and _count_colour(red_page, blue) == 0
    assert _count_colour(blue_page, blue) > 100 and _count_colour(blue_page, red) == 0


def _first_page_pixels(branding: Branding) -> list[tuple[int, int, int]]:
    pdf = render_pdf(build_context(make_cv(5)), branding)
    image = pypdfium2.PdfDocument(pdf)[0].render(scale=50 / 72).to_pil().convert("RGB")
    return list(image.get_flattened_data())


def _count_colour(pixels: list[tuple[int, int, int]], colour: str) -> int:
    target = tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return sum(1 for pixel in pixels if max(abs(a - b) for a, b in zip(pixel, target, strict=True)) < 12)


@pytest.mark.parametrize(
    ("context", "code"),
    [({"given_name": 7.5}, "invalid_context"), ({"unknown": "x"}, "invalid_context")],
)
def test_bad_context_raises_render_error(context, code, plain_branding):
    with pytest.raises(RenderError) as caught:
        render_pdf(context, plain_branding)
    assert caught.value.code == code


def test_branding_must_be_a_branding_object():
    with pytest.raises(RenderError) as caught:
        render_pdf(build_context({}), {"agency_name": "Agency"})
    assert caught.value.code == "invalid_branding"


def test_weasyprint_failure_becomes_render_error(plain_branding, monkeypatch):
    from core.rendering import pdf as pdf_module

    def broken_layout(*args):
        raise MemoryError("secret CV text")

    monkeypatch.setattr(pdf_module, "_layout", broken_layout)
    with pytest.raises(RenderError) as caught:
        render_pdf(build_context({}), plain_branding)

    assert caught.value.code == "render_failed"
    assert "secret" not in caught.value.message
