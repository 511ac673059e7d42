"""Small workbooks built in code for the import tests (xlsx, xls, ods, csv)."""

import csv
import io
import zipfile
from collections.abc import Sequence
from xml.sax.saxutils import escape

import openpyxl
import xlwt
from odf.config import ConfigItem, ConfigItemMapEntry, ConfigItemMapIndexed, ConfigItemSet
from odf.opendocument import OpenDocumentSpreadsheet
from odf.table import Table, TableCell, TableRow
from odf.text import P

Rows = Sequence[Sequence[object]]


def xlsx(sheets: dict[str, Rows], active: str | None = None, start_row: int = 1) -> bytes:
    """Workbook with one sheet per entry; rows are written from start_row on, None leaves a cell empty."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for r, row in enumerate(rows, start=start_row):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    sheet.cell(row=r, column=c, value=value)
    if active:
        book.active = list(sheets).index(active)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def xls(sheets: dict[str, Rows]) -> bytes:
    book = xlwt.Workbook()
    for name, rows in sheets.items():
        sheet = book.add_sheet(name)
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r, c, value)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def ods(sheets: dict[str, Rows], active: str | None = None) -> bytes:
    doc = OpenDocumentSpreadsheet()
    for name, rows in sheets.items():
        table = Table(name=name)
        for row in rows:
            table_row = TableRow()
            for value in row:
                if value is None:
                    cell = TableCell()
                elif isinstance(value, int | float):
                    cell = TableCell(valuetype="float", value=value)
                    cell.addElement(P(text=str(value)))
                else:
                    cell = TableCell(valuetype="string")
                    cell.addElement(P(text=str(value)))
                table_row.addElement(cell)
            table.addElement(table_row)
        doc.spreadsheet.addElement(table)
    if active:
        item = ConfigItem(name="ActiveTable", type="string")
        item.addText(active)
        entry = ConfigItemMapEntry()
        entry.addElement(item)
        views = ConfigItemMapIndexed(name="Views")
        views.addElement(entry)
        view_settings = ConfigItemSet(name="ooo:view-settings")
        view_settings.addElement(views)
        doc.settings.addElement(view_settings)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def csv_bytes(rows: Rows, delimiter: str = ",", encoding: str = "utf-8") -> bytes:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows([["" if v is None else v for v in row] for row in rows])
    return text.getvalue().encode(encoding)


def rewrite_member(archive: bytes, member: str, old: bytes, new: bytes) -> bytes:
    """Copy of a zip archive with one member's text edited (to fake what Excel writes)."""
    source = zipfile.ZipFile(io.BytesIO(archive))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == member:
                assert old in data, f"{old!r} not in {member}"
                data = data.replace(old, new)
            target.writestr(info.filename, data)
    return buffer.getvalue()


def zip_with(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


_PACKAGE = b"http://schemas.openxmlformats.org/package/2006"
_OFFICE = b"http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_MAIN = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OOXML = b"application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    b'<Types xmlns="' + _PACKAGE + b'/content-types"><Default Extension="rels" '
    b'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/xl/workbook.xml" ContentType="' + _OOXML + b'.sheet.main+xml"/>'
    b'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="' + _OOXML + b'.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    b'<Relationships xmlns="' + _PACKAGE + b'/relationships"><Relationship Id="rId1" '
    b'Type="' + _OFFICE + b'/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    b'<workbook xmlns="' + _MAIN + b'" xmlns:r="' + _OFFICE + b'">'
    b'<sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    b'<Relationships xmlns="' + _PACKAGE + b'/relationships"><Relationship Id="rId1" '
    b'Type="' + _OFFICE + b'/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)


def raw_xlsx(sheet_data: bytes) -> bytes:
    """A minimal hand-written xlsx whose only sheet has the given <sheetData> content."""
    sheet = b'<worksheet xmlns="' + _MAIN + b'"><sheetData>' + sheet_data + b"</sheetData></worksheet>"
    return zip_with(
        {
            "[Content_Types].xml": _CONTENT_TYPES,
            "_rels/.rels": _ROOT_RELS,
            "xl/workbook.xml": _WORKBOOK,
            "xl/_rels/workbook.xml.rels": _WORKBOOK_RELS,
            "xl/worksheets/sheet1.xml": sheet,
        }
    )


def inline_cell(ref: str, text: str) -> bytes:
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'.encode()
