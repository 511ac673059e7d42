"""ODT text: ``content.xml`` in document order, then page headers and footers from ``styles.xml``."""

import contextlib
import re
from typing import BinaryIO

from lxml import etree

from core.extraction.limits import Budget, BudgetExceeded, Limits
from core.extraction.xmlparts import local_name, parse_xml
from core.extraction.zipsafe import open_zip, read_member

PARAGRAPHS = {"p", "h"}
CONTAINERS = {"body", "text", "section", "index-body", "list"}
SKIPPED = {"annotation", "note", "tracked-changes", "sequence-decls", "variable-decls", "user-field-decls"}
HEADER_FOOTER = {"header", "header-left", "header-first", "footer", "footer-left", "footer-first"}
_XML_SPACE = re.compile(r"[ \t\r\n]+")


def read_odt_text(fh: BinaryIO, limits: Limits, budget: Budget) -> str:
    archive = open_zip(fh, limits)
    reader = _OdfText(budget)
    content = parse_xml(read_member(archive, "content.xml", limits.max_part_bytes), "content.xml")
    sections = [reader.blocks(content)]
    if "styles.xml" in archive.namelist():
        styles = parse_xml(read_member(archive, "styles.xml", limits.max_part_bytes), "styles.xml")
        sections.append(
            "\n".join(reader.blocks(part) for part in styles.iter() if local_name(part) in HEADER_FOOTER)
        )
    return "\n\n".join(section for section in sections if section.strip())


class _OdfText:
    def __init__(self, budget: Budget) -> None:
        self.budget = budget

    def blocks(self, container: etree._Element) -> str:
        """The container's text; once the budget is spent, what was read so far and nothing after."""
        lines: list[str] = []
        if not self.budget.exceeded:
            with contextlib.suppress(BudgetExceeded):
                self._blocks(container, lines, bullet=False)
        return "\n".join(lines)

    def _blocks(self, container: etree._Element, lines: list[str], *, bullet: bool) -> None:
        for child in container:
            name = local_name(child)
            if name in PARAGRAPHS:
                frames: list[etree._Element] = []
                text = self._paragraph(child, frames)
                lines.append(f"• {text}" if bullet and text.strip() else text)
                bullet = False
                for frame in frames:  # text boxes anchored in this paragraph follow it
                    self._blocks(frame, lines, bullet=False)
            elif name == "list-item":
                self._blocks(child, lines, bullet=True)
            elif name == "table":
                self._table(child, lines)
            elif name in CONTAINERS or name in ("frame", "text-box"):
                self._blocks(child, lines, bullet=False)

    def _paragraph(self, paragraph: etree._Element, frames: list[etree._Element]) -> str:
        parts: list[str] = []
        self._inline(paragraph, parts, frames)
        text = "".join(parts)
        self.budget.spend_chars(len(text))
        return text

    def _inline(self, element: etree._Element, parts: list[str], frames: list[etree._Element]) -> None:
        if element.text:
            parts.append(_XML_SPACE.sub(" ", element.text))
        for child in element:
            name = local_name(child)
            if name == "s":
                parts.append(" " * _count(child))
            elif name == "tab":
                parts.append("\t")
            elif name == "line-break":
                parts.append("\n")
            elif name == "frame":
                frames.append(child)
            elif name not in SKIPPED:
                self._inline(child, parts, frames)
            if child.tail:
                parts.append(_XML_SPACE.sub(" ", child.tail))

    def _table(self, table: etree._Element, lines: list[str]) -> None:
        for row in _rows(table):
            self.budget.check()
            cells = []
            for cell in row:
                if local_name(cell) == "table-cell":
                    cell_lines: list[str] = []
                    self._blocks(cell, cell_lines, bullet=False)
                    cells.append([line for line in cell_lines if line.strip()])
            cells = [cell for cell in cells if cell]
            if all(len(cell) == 1 for cell in cells):
                lines.append("\t".join(cell[0] for cell in cells))
            else:
                for cell in cells:
                    lines.extend(cell)
                    lines.append("")


def _rows(table: etree._Element):
    """The table's own rows, through row groups but not into nested tables."""
    for child in table:
        name = local_name(child)
        if name == "table-row":
            yield child
        elif name in ("table-header-rows", "table-rows", "table-row-group"):
            yield from _rows(child)


def _count(element: etree._Element) -> int:
    value = next((v for k, v in element.attrib.items() if k.endswith("}c")), "1")
    return min(int(value), 100) if value.isdigit() else 1
