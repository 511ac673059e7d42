"""DOCX text: the body in document order, then headers and footers, then text boxes (pipeline.md §4).

WordprocessingML is read directly (python-docx loads every part, images included, and skips text boxes).
Tables read row by row: a row of one-line cells becomes one tab-separated line, a row with longer cells is
read cell by cell, so a CV laid out as a two-column table reads column by column within each row.
"""

import contextlib
import posixpath
from typing import BinaryIO

from lxml import etree

from core.extraction.limits import Budget, BudgetExceeded, Limits
from core.extraction.xmlparts import local_name, parse_xml
from core.extraction.zipsafe import open_zip, read_member

RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
HEADER_FOOTER = ("/header", "/footer")
SKIPPED = {
    "del",
    "delText",
    "instrText",
    "Fallback",
    "rPr",
    "pPr",
    "tblPr",
    "trPr",
    "tcPr",
    "sectPr",
    "commentReference",
}
BREAKS = {"br", "cr"}


def read_docx_text(fh: BinaryIO, limits: Limits, budget: Budget) -> str:
    archive = open_zip(fh, limits)
    document = parse_xml(
        read_member(archive, "word/document.xml", limits.max_part_bytes), "word/document.xml"
    )
    reader = _WordText(budget)
    body = next((child for child in document if local_name(child) == "body"), document)
    sections = [reader.blocks(body)]
    for part in header_footer_parts(archive, limits):
        sections.append(reader.blocks(parse_xml(read_member(archive, part, limits.max_part_bytes), part)))
    boxes = []
    while reader.text_boxes:  # a text box may hold another one
        box = reader.text_boxes.pop(0)
        boxes.append(reader.blocks(box))
    sections.append("\n".join(boxes))
    return "\n\n".join(section for section in sections if section.strip())


def header_footer_parts(archive, limits: Limits) -> list[str]:
    """Header and footer parts in name order (header1, header2, footer1, ...), from the document's rels."""
    rels_name = "word/_rels/document.xml.rels"
    if rels_name not in archive.namelist():
        return []
    rels = parse_xml(read_member(archive, rels_name, limits.max_part_bytes), rels_name)
    parts = set()
    for rel in rels.iter(f"{{{RELS_NS}}}Relationship"):
        if rel.get("Type", "").endswith(HEADER_FOOTER) and rel.get("TargetMode") != "External":
            target = rel.get("Target", "")
            name = target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"word/{target}")
            if name in archive.namelist():
                parts.add(name)
    return sorted(parts, key=lambda name: (not posixpath.basename(name).startswith("header"), name))


class _WordText:
    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.text_boxes: list[etree._Element] = []

    def blocks(self, container: etree._Element) -> str:
        """The container's text; once the budget is spent, what was read so far and nothing after."""
        lines: list[str] = []
        if not self.budget.exceeded:
            with contextlib.suppress(BudgetExceeded):
                self._blocks(container, lines)
        return "\n".join(lines)

    def _blocks(self, container: etree._Element, lines: list[str]) -> None:
        for child in container:
            name = local_name(child)
            if name == "p":
                lines.append(self._paragraph(child))
            elif name == "tbl":
                self._table(child, lines)
            elif name in ("sdt", "sdtContent", "customXml", "ins", "smartTag", "AlternateContent", "Choice"):
                self._blocks(child, lines)

    def _paragraph(self, paragraph: etree._Element) -> str:
        parts: list[str] = []
        self._inline(paragraph, parts)
        text = "".join(parts)
        self.budget.spend_chars(len(text))
        return f"• {text}" if text.strip() and _is_list_item(paragraph) else text

    def _inline(self, element: etree._Element, parts: list[str]) -> None:
        for child in element:
            name = local_name(child)
            if name == "t":
                parts.append(child.text or "")
            elif name == "tab":
                parts.append("\t")
            elif name in BREAKS:
                parts.append("\n")
            elif name == "noBreakHyphen":
                parts.append("-")
            elif name == "sym":
                parts.append(_symbol(child))
            elif name == "txbxContent":
                self.text_boxes.append(child)  # read after the body and headers
            elif name not in SKIPPED:
                self._inline(child, parts)

    def _table(self, table: etree._Element, lines: list[str]) -> None:
        for row in _children(table, "tr"):
            self.budget.check()
            cells = []
            for cell in _children(row, "tc"):
                cell_lines: list[str] = []
                self._blocks(cell, cell_lines)
                cells.append([line for line in cell_lines if line.strip()])
            cells = [cell for cell in cells if cell]
            if all(len(cell) == 1 for cell in cells):
                lines.append("\t".join(cell[0] for cell in cells))
            else:
                for cell in cells:
                    lines.extend(cell)
                    lines.append("")


def _children(element: etree._Element, wanted: str):
    """Direct children named ``wanted``, looking through content-control and custom-XML wrappers."""
    for child in element:
        name = local_name(child)
        if name == wanted:
            yield child
        elif name in ("sdt", "sdtContent", "customXml"):
            yield from _children(child, wanted)


def _is_list_item(paragraph: etree._Element) -> bool:
    properties = next((child for child in paragraph if local_name(child) == "pPr"), None)
    if properties is None:
        return False
    for prop in properties:
        name = local_name(prop)
        if name == "numPr":
            return True
        if name == "pStyle":
            style = next((v for k, v in prop.attrib.items() if k.endswith("}val")), "").lower()
            return style.startswith("list") or "bullet" in style
    return False


def _symbol(element: etree._Element) -> str:
    code = next((v for k, v in element.attrib.items() if k.endswith("}char")), "")
    try:
        return chr(int(code, 16))
    except ValueError:
        return ""
