"""Long histories paginate cleanly: numbered pages, jobs kept whole, no heading stranded at a page foot."""

import re

import pytest
from weasyprint.formatting_structure.boxes import BlockBox, LineBox

from core.rendering import build_context
from core.rendering.context import MAX_BULLETS, MAX_JOBS
from core.rendering.pdf import layout_document
from tests.core.rendering.pdftools import page_texts
from tests.core.rendering.samples import make_branding, make_cv

BRANDING = make_branding()


@pytest.fixture(scope="module")
def long_context():
    return build_context(make_cv(6, jobs=MAX_JOBS, bullets=MAX_BULLETS))


@pytest.fixture(scope="module")
def long_document(long_context):
    """The worst-case history laid out once for the whole module (render_pdf writes the same document)."""
    return layout_document(long_context, BRANDING)


def _classes(box) -> set[str]:
    return set((box.element.get("class") or "").split()) if box.element is not None else set()


def _flow_lines(page) -> list[LineBox]:
    """Text lines of the page body in document order (margin boxes excluded)."""
    body = page._page_box.children[0]
    return [box for box in body.descendants() if isinstance(box, LineBox)]


def _is_heading(line: LineBox) -> bool:
    return line.element_tag in {"h1", "h2"} or bool(_classes(line) & {"job-head", "dates"})


def test_every_page_is_numbered_page_x_of_y(long_document):
    texts = page_texts(long_document.write_pdf())

    assert len(texts) > 5
    for number, text in enumerate(texts, start=1):
        assert re.search(rf"Page {number} of {len(texts)}\b", text)


def test_each_job_stays_on_one_page(long_document):
    pages_of_job: dict[int, set[int]] = {}
    for number, page in enumerate(long_document.pages):
        for box in page._page_box.descendants():
            if isinstance(box, BlockBox) and "job" in _classes(box):
                pages_of_job.setdefault(id(box.element), set()).add(number)

    assert len(pages_of_job) == MAX_JOBS
    assert all(len(pages) == 1 for pages in pages_of_job.values())


@pytest.mark.parametrize("bullet_length", [120, 500])
def test_no_heading_ends_a_page(bullet_length, plain_branding):
    """Also when a job with fifteen 500-character bullets cannot fit on one page and must split."""
    cv = make_cv(7, jobs=6, bullets=MAX_BULLETS)
    for job in cv["employment_history"]:
        job["responsibilities"] = [
            (bullet + " ") * (bullet_length // len(bullet) + 1) for bullet in job["responsibilities"]
        ]
        job["responsibilities"] = [bullet[:bullet_length].strip() for bullet in job["responsibilities"]]
    document = layout_document(build_context(cv), plain_branding)

    assert len(document.pages) > 1
    _assert_no_page_ends_with_a_heading(document)


def test_no_heading_ends_a_page_in_the_worst_case(long_document):
    _assert_no_page_ends_with_a_heading(long_document)


def _assert_no_page_ends_with_a_heading(document) -> None:
    for page in document.pages:
        lines = _flow_lines(page)
        assert lines and not _is_heading(lines[-1])


def test_running_header_names_the_candidate_from_page_two(long_context, plain_branding):
    document = layout_document(long_context, plain_branding)
    headers = [
        _margin_text(page, "top-left") + "/" + _margin_text(page, "top-right") for page in document.pages
    ]

    assert headers[0] == "/"  # page 1 has the full masthead instead
    assert set(headers[1:]) == {f"{long_context['given_name']}/{plain_branding.agency_name}"}


def _margin_text(page, position: str) -> str:
    boxes = [box for box in page._page_box.children if getattr(box, "at_keyword", "") == f"@{position}"]
    return "".join(getattr(box, "text", "") for margin in boxes for box in margin.descendants())
