"""OpenDocument CVs (LibreOffice Writer) with odfpy: headings, bulleted lists, an education table, the photo
in a frame at the top right, the school logo in the page header."""

from pathlib import Path

from odf.draw import Frame, Image
from odf.opendocument import OpenDocumentText
from odf.style import (
    GraphicProperties,
    Header,
    MasterPage,
    PageLayout,
    PageLayoutProperties,
    Style,
    TableColumnProperties,
    TextProperties,
)
from odf.table import Table, TableCell, TableColumn, TableRow
from odf.text import H, List, ListItem, P, Span, Tab

from tests.cvgen.model import CVProfile
from tests.cvgen.render_common import Block, images, outline, with_suffix


def render(profile: CVProfile, path: Path | str) -> Path:
    path = with_suffix(path, ".odt")
    doc = OpenDocumentText()
    styles = _styles(doc)
    pictures = images(profile)
    header = Header()
    logo = P()
    logo.addElement(_frame(doc, pictures.logo, "image/png", "logo", "4cm", "1.2cm", styles["frame"]))
    header.addElement(logo)
    layout = PageLayout(name="CVPage")
    layout.addElement(PageLayoutProperties(pagewidth="21cm", pageheight="29.7cm", margin="1.8cm"))
    doc.automaticstyles.addElement(layout)
    master = MasterPage(name="Standard", pagelayoutname=layout)
    master.addElement(header)
    doc.masterstyles.addElement(master)

    blocks = outline(profile)
    education = [b for b in blocks if b.kind == "edu"]
    pending_list: List | None = None
    for block in blocks:
        if block.kind != "bullet":
            pending_list = None
        if block.kind == "title":
            title = P(stylename=styles["title"])
            if pictures.photo:
                title.addElement(
                    _frame(doc, pictures.photo, "image/jpeg", "photo", "3cm", "3.6cm", styles["photo"])
                )
            title.addText(block.text)
            doc.text.addElement(title)
        elif block.kind == "heading":
            doc.text.addElement(H(outlinelevel=2, stylename=styles["heading"], text=block.text))
        elif block.kind == "bullet":
            if pending_list is None:
                pending_list = List()
                doc.text.addElement(pending_list)
            item = ListItem()
            item.addElement(P(text=block.text))
            pending_list.addElement(item)
        elif block.kind == "job":
            line = P()
            line.addElement(Span(stylename=styles["bold"], text=block.text))
            line.addElement(Tab())
            line.addText(block.extra)
            doc.text.addElement(line)
        elif block.kind == "edu":
            if block is education[0]:
                doc.text.addElement(_education_table(education, styles))
        else:
            doc.text.addElement(P(text=block.text))
    doc.save(str(path))
    return path


def _styles(doc: OpenDocumentText) -> dict[str, Style]:
    title = Style(name="CVTitle", family="paragraph")
    title.addElement(TextProperties(fontsize="20pt", fontweight="bold"))
    heading = Style(name="CVHeading", family="paragraph")
    heading.addElement(TextProperties(fontsize="13pt", fontweight="bold", color="#1f3864"))
    bold = Style(name="CVBold", family="text")
    bold.addElement(TextProperties(fontweight="bold"))
    photo = Style(name="CVPhoto", family="graphic")
    photo.addElement(GraphicProperties(horizontalpos="right", horizontalrel="paragraph", wrap="left"))
    frame = Style(name="CVLogo", family="graphic")
    frame.addElement(GraphicProperties(horizontalpos="left", horizontalrel="paragraph"))
    narrow = Style(name="CVDates", family="table-column")
    narrow.addElement(TableColumnProperties(columnwidth="4cm"))
    wide = Style(name="CVEntry", family="table-column")
    wide.addElement(TableColumnProperties(columnwidth="13cm"))
    for style in (title, heading, bold, photo, frame, narrow, wide):
        doc.automaticstyles.addElement(style)
    return {"title": title, "heading": heading, "bold": bold, "photo": photo, "frame": frame,
            "narrow": narrow, "wide": wide}  # fmt: skip


def _frame(doc, data: bytes, media_type: str, name: str, width: str, height: str, style: Style) -> Frame:
    href = doc.addPicture(f"Pictures/{name}.{media_type.split('/')[1]}", media_type, data)
    frame = Frame(stylename=style, width=width, height=height, anchortype="paragraph", name=name)
    frame.addElement(Image(href=href))
    return frame


def _education_table(rows: list[Block], styles: dict[str, Style]) -> Table:
    table = Table(name="Education")
    table.addElement(TableColumn(stylename=styles["narrow"]))
    table.addElement(TableColumn(stylename=styles["wide"]))
    for block in rows:
        row = TableRow()
        for text in (block.extra, f"{block.text}, {block.detail}"):
            cell = TableCell()
            cell.addElement(P(text=text))
            row.addElement(cell)
        table.addElement(row)
    return table
