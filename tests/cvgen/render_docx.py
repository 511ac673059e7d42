"""Word CVs with python-docx in three real-world layouts.

* ``render_table``: the CV laid out in a two-column table (dates left, entries right), photo beside the name;
* ``render_header``: contact details and the school logo in the page header, the rest in the body;
* ``render_textbox``: a Word-template sidebar: contact details and skills in a floating text box
  (``mc:AlternateContent`` with a DrawingML text box and its VML fallback, as Word writes it), photo top right.
"""

import io
from pathlib import Path
from xml.sax.saxutils import escape

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import parse_xml
from docx.oxml.ns import nsdecls
from docx.shared import Cm, Pt, RGBColor

from tests.cvgen.model import CVProfile
from tests.cvgen.render_common import (
    contact_items,
    contact_line,
    headings,
    images,
    job_title_line,
    outline,
    with_suffix,
)

BULLET_STYLE = "List Bullet"
TEXT_BOX_NAMESPACES = (
    'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
    'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
    'xmlns:v="urn:schemas-microsoft-com:vml"'
)


def render_table(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".docx")
    doc = _document()
    pictures = images(profile)
    doc.sections[0].header.paragraphs[0].add_run().add_picture(io.BytesIO(pictures.logo), width=Cm(4))
    top = doc.add_table(rows=1, cols=2)
    name_cell, photo_cell = top.rows[0].cells
    _title(name_cell.paragraphs[0], profile.full_name)
    if profile.job_titles:
        name_cell.add_paragraph(profile.job_titles[0])
    for label, value in contact_items(profile):
        name_cell.add_paragraph(f"{label}: {value}")
    if pictures.photo:
        photo_cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
        photo_cell.paragraphs[0].add_run().add_picture(io.BytesIO(pictures.photo), width=Cm(3.2))
    names = headings(profile)
    _heading(doc.add_paragraph(), names["profile"])
    doc.add_paragraph(profile.profile_text)
    table = doc.add_table(rows=0, cols=2)
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    if profile.jobs:
        _section_row(table, names["experience"])
        for job in profile.jobs:
            dates, entry = table.add_row().cells
            dates.text = job.date_text
            _bold(entry.paragraphs[0], job_title_line(job))
            for duty in job.responsibilities:
                entry.add_paragraph(duty, style=BULLET_STYLE)
    if profile.education:
        _section_row(table, names["education"])
        for education in profile.education:
            dates, entry = table.add_row().cells
            dates.text = education.date_text
            entry.text = f"{education.qualification}, {education.institution}"
    for key, values in (("qualifications", profile.qualifications), ("skills", profile.skills)):
        if values:
            label, entry = table.add_row().cells
            _bold(label.paragraphs[0], names[key])
            entry.paragraphs[0].text = values[0]
            entry.paragraphs[0].style = doc.styles[BULLET_STYLE]
            for value in values[1:]:
                entry.add_paragraph(value, style=BULLET_STYLE)
    if profile.interests:
        label, entry = table.add_row().cells
        _bold(label.paragraphs[0], names["interests"])
        entry.text = profile.interests
    for row in table.rows:
        row.cells[0].width, row.cells[1].width = Cm(4), Cm(13)
    doc.save(path)
    return path


def render_header(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".docx")
    doc = _document()
    pictures = images(profile)
    header = doc.sections[0].header
    logo = header.paragraphs[0]
    logo.add_run().add_picture(io.BytesIO(pictures.logo), width=Cm(3.5))
    contacts = header.add_paragraph(contact_line(profile))
    contacts.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    doc.sections[0].footer.paragraphs[0].text = f"{profile.full_name} - Curriculum Vitae"
    if pictures.photo:
        photo = doc.add_paragraph()
        photo.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        photo.add_run().add_picture(io.BytesIO(pictures.photo), width=Cm(3))
    _flow(doc, outline(profile, contact=False))
    doc.save(path)
    return path


def render_textbox(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".docx")
    doc = _document()
    names = headings(profile)
    sidebar = [(names["contact"], True)] + [(value, False) for _, value in contact_items(profile)]
    if profile.skills:
        sidebar += [("", False), (names["skills"], True)] + [(skill, False) for skill in profile.skills]
    blocks = _without_section(outline(profile, contact=False), names["skills"])
    first = doc.add_paragraph()
    first.add_run()._r.append(_text_box(sidebar))
    photo = images(profile).photo
    if photo:
        first.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        first.add_run().add_picture(io.BytesIO(photo), width=Cm(3))
    _flow(doc, blocks, indent=Cm(6))
    doc.save(path)
    return path


def _document():
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(10.5)
    return doc


def _flow(doc, blocks, indent=None) -> None:
    for block in blocks:
        if block.kind == "title":
            paragraph = doc.add_paragraph()
            _title(paragraph, block.text)
        elif block.kind == "heading":
            paragraph = doc.add_paragraph()
            _heading(paragraph, block.text)
        elif block.kind == "job":
            paragraph = doc.add_paragraph()
            _bold(paragraph, block.text)
            paragraph.add_run(f"\t{block.extra}")
            paragraph.paragraph_format.tab_stops.add_tab_stop(Cm(17 if indent is None else 11))
        elif block.kind == "edu":
            paragraph = doc.add_paragraph(f"{block.text}, {block.detail} ({block.extra})")
        elif block.kind == "bullet":
            paragraph = doc.add_paragraph(block.text, style=BULLET_STYLE)
        else:
            paragraph = doc.add_paragraph(block.text)
        if indent is not None:
            paragraph.paragraph_format.left_indent = indent


def _without_section(blocks, heading: str):
    """The blocks minus one section (its heading and everything up to the next heading)."""
    out, skipping = [], False
    for block in blocks:
        if block.kind == "heading":
            skipping = block.text == heading
        if not skipping:
            out.append(block)
    return out


def _title(paragraph, text: str) -> None:
    run = paragraph.add_run(text)
    run.bold, run.font.size = True, Pt(20)


def _heading(paragraph, text: str) -> None:
    run = paragraph.add_run(text)
    run.bold, run.font.size, run.font.color.rgb = True, Pt(13), RGBColor(0x1F, 0x38, 0x64)


def _bold(paragraph, text: str) -> None:
    paragraph.add_run(text).bold = True


def _section_row(table, text: str) -> None:
    row = table.add_row()
    merged = row.cells[0].merge(row.cells[1])
    _heading(merged.paragraphs[0], text)


def _text_box(lines: list[tuple[str, bool]]):
    """A floating text box holding ``lines`` (text, bold), with the VML fallback Word adds for old readers."""
    paragraphs = "".join(
        f'<w:p><w:r>{"<w:rPr><w:b/></w:rPr>" if bold else ""}<w:t xml:space="preserve">{escape(text)}</w:t></w:r></w:p>'
        for text, bold in lines
    )
    content = f"<w:txbxContent>{paragraphs}</w:txbxContent>"
    xml = f"""
<mc:AlternateContent {nsdecls("w", "wp", "a")} {TEXT_BOX_NAMESPACES}>
  <mc:Choice Requires="wps">
    <w:drawing>
      <wp:anchor distT="0" distB="0" distL="114300" distR="114300" simplePos="0" relativeHeight="251659264"
                 behindDoc="0" locked="0" layoutInCell="1" allowOverlap="1">
        <wp:simplePos x="0" y="0"/>
        <wp:positionH relativeFrom="page"><wp:posOffset>360000</wp:posOffset></wp:positionH>
        <wp:positionV relativeFrom="page"><wp:posOffset>900000</wp:posOffset></wp:positionV>
        <wp:extent cx="1980000" cy="7200000"/>
        <wp:effectExtent l="0" t="0" r="0" b="0"/>
        <wp:wrapNone/>
        <wp:docPr id="100" name="Sidebar"/>
        <wp:cNvGraphicFramePr/>
        <a:graphic>
          <a:graphicData uri="http://schemas.microsoft.com/office/word/2010/wordprocessingShape">
            <wps:wsp>
              <wps:cNvSpPr txBox="1"/>
              <wps:spPr>
                <a:xfrm><a:off x="0" y="0"/><a:ext cx="1980000" cy="7200000"/></a:xfrm>
                <a:prstGeom prst="rect"><a:avLst/></a:prstGeom>
                <a:solidFill><a:srgbClr val="E7EEF7"/></a:solidFill>
              </wps:spPr>
              <wps:txbx>{content}</wps:txbx>
              <wps:bodyPr rot="0" vert="horz" wrap="square" lIns="91440" tIns="45720" rIns="91440" bIns="45720"/>
            </wps:wsp>
          </a:graphicData>
        </a:graphic>
      </wp:anchor>
    </w:drawing>
  </mc:Choice>
  <mc:Fallback>
    <w:pict>
      <v:shapetype id="_x0000_t202" coordsize="21600,21600" path="m,l,21600r21600,l21600,xe"/>
      <v:shape id="Sidebar" type="#_x0000_t202" style="position:absolute;width:156pt;height:567pt" fillcolor="#e7eef7">
        <v:textbox>{content}</v:textbox>
      </v:shape>
    </w:pict>
  </mc:Fallback>
</mc:AlternateContent>"""
    return parse_xml(xml)


LAYOUTS = {"docx_table": render_table, "docx_header": render_header, "docx_textbox": render_textbox}


def render(profile: CVProfile, path: Path | str) -> Path:
    """The profile in its own Word layout (table layout when its layout is not a DOCX one)."""
    return LAYOUTS.get(profile.layout, render_table)(profile, path)
