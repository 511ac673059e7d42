"""PDF CVs laid out by WeasyPrint from HTML/CSS, so columns, sidebars and images sit where real CVs put them.

* ``render_two_column``: a full-width header (name, role, contacts, photo top right), then a narrow left
  column (profile, skills, qualifications, interests) beside the main column (experience, education);
* ``render_sidebar``: a shaded sidebar with contact lines behind small icons, skills and qualifications;
* ``render_dates_left``: one column where each job's dates sit in a left label column beside the entry
  (photo, if any, floated top right);
* ``render_edited``: the two-column CV with one line added afterwards "in a PDF editor": the line is left
  out of the original (its space kept) and drawn by an overlay appended to the page's content with pypdf,
  in another font, so it comes last in the content stream but sits mid-page.
"""

import base64
import io
from html import escape
from pathlib import Path

import pypdfium2 as pdfium
from pypdf import PdfReader, PdfWriter
from weasyprint import HTML

from tests.cvgen.model import CVProfile
from tests.cvgen.render_common import contact_items, headings, images, job_title_line, with_suffix

BASE_CSS = """
@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 9.5pt; line-height: 1.3; color: #222; margin: 0; }
h1 { font-size: 21pt; margin: 0 0 2pt 0; }
h2 { font-size: 11.5pt; color: #1f3864; margin: 10pt 0 4pt 0; text-transform: none; }
p { margin: 0 0 3pt 0; }
ul { margin: 0 0 4pt 0; padding-left: 12pt; }
li { margin: 0 0 1pt 0; }
.role { font-weight: bold; margin-top: 5pt; }
.dates { color: #555; }
.subtitle { font-size: 12pt; color: #444; margin-bottom: 4pt; }
.logo { height: 30pt; }
.photo { float: right; width: 78pt; height: 94pt; margin-left: 8pt; }
"""


def render_two_column(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".pdf")
    HTML(string=_two_column_html(profile)).write_pdf(path)
    return path


def render_sidebar(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".pdf")
    pictures = images(profile)
    names = headings(profile)
    icon = data_uri(pictures.icon, "image/png")
    contacts = "".join(
        f'<p class="contact"><img class="icon" src="{icon}"> {escape(value)}</p>'
        for _, value in contact_items(profile)
    )
    sidebar = (
        f'<img class="logo" src="{data_uri(pictures.logo, "image/png")}">'
        f"<h2>{escape(names['contact'])}</h2>{contacts}"
        + _list_section(names["skills"], profile.skills)
        + _list_section(names["qualifications"], profile.qualifications)
        + (_paragraph_section(names["interests"], profile.interests) if profile.interests else "")
    )
    main = (
        f'<div class="head"><div><h1>{escape(profile.full_name)}</h1>{_subtitle(profile)}</div>'
        + _photo(pictures.photo)
        + "</div>"
        + _paragraph_section(names["profile"], profile.profile_text)
        + _experience(profile, names["experience"])
        + _education(profile, names["education"])
    )
    css = (
        BASE_CSS
        + """
    .page { display: grid; grid-template-columns: 58mm 115mm; column-gap: 7mm; }
    .side { background: #e8eef6; padding: 6mm 5mm; }
    .icon { width: 9pt; height: 9pt; vertical-align: middle; }
    .contact { font-size: 8.5pt; }
    .logo { width: 48mm; height: auto; }
    .head { display: flex; justify-content: space-between; }
    .head .photo { float: none; }
    """
    )
    html = f'<html><head><style>{css}</style></head><body><div class="page"><div class="side">{sidebar}</div><div class="main">{main}</div></div></body></html>'
    HTML(string=html).write_pdf(path)
    return path


def render_dates_left(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".pdf")
    names = headings(profile)
    jobs = "".join(
        f'<div class="entry"><div class="when">{escape(job.date_text)}</div><div class="what">'
        f'<p class="role">{escape(job_title_line(job))}</p>{_bullets(job.responsibilities)}</div></div>'
        for job in profile.jobs
    )
    education = "".join(
        f'<div class="entry"><div class="when">{escape(e.date_text)}</div><div class="what">'
        f"<p>{escape(e.qualification)}, {escape(e.institution)}</p></div></div>"
        for e in profile.education
    )
    contacts = " &middot; ".join(escape(value) for _, value in contact_items(profile))
    body = (
        _photo(images(profile).photo)
        + f"<h1>{escape(profile.full_name)}</h1>{_subtitle(profile)}<p>{contacts}</p>"
        + _paragraph_section(names["profile"], profile.profile_text)
        + (f"<h2>{escape(names['experience'])}</h2>{jobs}" if jobs else "")
        + (f"<h2>{escape(names['education'])}</h2>{education}" if education else "")
        + _list_section(names["qualifications"], profile.qualifications)
        + _paragraph_section(names["skills"], ", ".join(profile.skills))
        + (_paragraph_section(names["interests"], profile.interests) if profile.interests else "")
    )
    css = (
        BASE_CSS
        + """
    .entry { display: grid; grid-template-columns: 48mm 126mm; margin-top: 7pt; }
    .when { color: #555; font-size: 8.5pt; white-space: nowrap; }
    .what .role { margin-top: 0; }
    """
    )
    HTML(string=f"<html><head><style>{css}</style></head><body>{body}</body></html>").write_pdf(path)
    return path


def render_edited(profile: CVProfile, path: Path | str) -> Path:
    """The two-column CV with one line drawn later by an overlay (see the module docstring)."""
    path = with_suffix(path, ".pdf")
    line = edited_line(profile)
    full = HTML(string=_two_column_html(profile)).write_pdf()
    page_index, box = _locate(full, line)
    original = HTML(string=_two_column_html(profile, hidden=line)).write_pdf()
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(original)))
    page = writer.pages[page_index]
    width, height = float(page.mediabox.width), float(page.mediabox.height)
    overlay = PdfReader(io.BytesIO(_overlay(line, box, width, height))).pages[0]
    page.merge_page(overlay)  # appends the overlay's drawing at the end of the page content
    with open(path, "wb") as fh:
        writer.write(fh)
    return path


def edited_line(profile: CVProfile) -> str:
    """The line the editor adds: the first job's last duty, else the phone number."""
    for job in profile.jobs:
        if job.responsibilities:
            return job.responsibilities[-1]
    return profile.phone


def _two_column_html(profile: CVProfile, hidden: str | None = None) -> str:
    pictures = images(profile)
    names = headings(profile)
    contacts = "".join(
        f"<span{' class=hidden' if value == hidden else ''}>{escape(value)}</span>"
        for _, value in contact_items(profile)
    )
    header = (
        _photo(pictures.photo)
        + f'<img class="logo" src="{data_uri(pictures.logo, "image/png")}">'
        + f'<h1>{escape(profile.full_name)}</h1>{_subtitle(profile)}<p class="contacts">{contacts}</p>'
    )
    left = (
        _paragraph_section(names["profile"], profile.profile_text)
        + _list_section(names["skills"], profile.skills)
        + _list_section(names["qualifications"], profile.qualifications)
        + (_paragraph_section(names["interests"], profile.interests) if profile.interests else "")
    )
    right = _experience(profile, names["experience"], hidden) + _education(profile, names["education"])
    css = (
        BASE_CSS
        + """
    header { border-bottom: 1.5pt solid #1f3864; padding-bottom: 6pt; margin-bottom: 4pt; }
    .contacts span { margin-right: 14pt; white-space: nowrap; }
    .columns { display: grid; grid-template-columns: 58mm 115mm; column-gap: 9mm; }
    .hidden { visibility: hidden; }
    """
    )
    return (
        f"<html><head><style>{css}</style></head><body><header>{header}</header>"
        f'<div class="columns"><div class="left">{left}</div><div class="right">{right}</div></div></body></html>'
    )


def _locate(pdf: bytes, text: str) -> tuple[int, tuple[float, float, float, float]]:
    """(page index, (left, bottom, right, top)) of the first line of ``text`` as pdfium lays it out."""
    document = pdfium.PdfDocument(pdf)
    probe = text[:24]
    try:
        for index in range(len(document)):
            textpage = document[index].get_textpage()
            found = textpage.search(probe, match_case=True).get_next()
            if found:
                start, count = found
                boxes = [textpage.get_charbox(i) for i in range(start, start + count)]
                return index, (
                    boxes[0][0],
                    min(b[1] for b in boxes),
                    max(b[2] for b in boxes),
                    max(b[3] for b in boxes),
                )
    finally:
        document.close()
    raise ValueError("the edited line is not on any page")


def _overlay(line: str, box: tuple[float, float, float, float], width: float, height: float) -> bytes:
    """A transparent page of the same size with ``line`` at ``box``, in a different font, slightly off-grid."""
    left, _bottom, right, top = box
    css = f"""
    @page {{ size: {width}pt {height}pt; margin: 0; }}
    body {{ margin: 0; }}
    p {{ position: absolute; left: {left + 0.7:.2f}pt; top: {height - top - 1.3:.2f}pt; width: {max(right - left, 300):.1f}pt;
         margin: 0; font-family: 'DejaVu Serif', serif; font-size: 8.8pt; line-height: 1.2; }}
    """
    return HTML(
        string=f"<html><head><style>{css}</style></head><body><p>{escape(line)}</p></body></html>"
    ).write_pdf()


def _subtitle(profile: CVProfile) -> str:
    return f'<p class="subtitle">{escape(profile.job_titles[0])}</p>' if profile.job_titles else ""


def _photo(photo: bytes | None) -> str:
    return f'<img class="photo" src="{data_uri(photo, "image/jpeg")}">' if photo else ""


def _experience(profile: CVProfile, heading: str, hidden: str | None = None) -> str:
    """The jobs; ``hidden`` (the edited line) is kept invisible in the first job listing it."""
    if not profile.jobs:
        return ""
    edited = next((job for job in profile.jobs if hidden in job.responsibilities), None)
    jobs = "".join(
        f'<p class="role">{escape(job_title_line(job))}</p><p class="dates">{escape(job.date_text)}</p>'
        + _bullets(job.responsibilities, hidden if job is edited else None)
        for job in profile.jobs
    )
    return f"<h2>{escape(heading)}</h2>{jobs}"


def _education(profile: CVProfile, heading: str) -> str:
    if not profile.education:
        return ""
    rows = "".join(
        f'<p class="role">{escape(e.qualification)}</p><p>{escape(e.institution)}, {escape(e.date_text)}</p>'
        for e in profile.education
    )
    return f"<h2>{escape(heading)}</h2>{rows}"


def _bullets(items: list[str], hidden: str | None = None) -> str:
    if not items:
        return ""
    return (
        "<ul>"
        + "".join(f"<li{' class=hidden' if item == hidden else ''}>{escape(item)}</li>" for item in items)
        + "</ul>"
    )


def _list_section(heading: str, items: list[str]) -> str:
    return f"<h2>{escape(heading)}</h2>{_bullets(items)}" if items else ""


def _paragraph_section(heading: str, text: str) -> str:
    return f"<h2>{escape(heading)}</h2><p>{escape(text)}</p>" if text else ""


def data_uri(data: bytes, media_type: str) -> str:
    return f"data:{media_type};base64,{base64.b64encode(data).decode()}"


LAYOUTS = {
    "pdf_two_column": render_two_column,
    "pdf_sidebar": render_sidebar,
    "pdf_dates_left": render_dates_left,
    "pdf_edited": render_edited,
}


def render(profile: CVProfile, path: Path | str) -> Path:
    """The profile in its own PDF layout (two-column when its layout is not a PDF one)."""
    return LAYOUTS.get(profile.layout, render_two_column)(profile, path)
