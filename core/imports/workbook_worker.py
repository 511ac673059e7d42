"""Workbook reading (xlsx, xlsb, xls, ods) with python-calamine, run in a resource-limited subprocess.

calamine builds a dense grid from the outermost used cells, so a 1 KB workbook with cells at A1 and
XFD1048576 asks for hundreds of gigabytes and aborts the whole process. Reading in a child process with
an address-space and CPU limit turns such files into a clear error instead of a dead Celery worker.

Protocol: the parent sends the file on stdin and a JSON config as an argument; the child answers with
JSON lines: {"sheet", "header_row", "headers", "first_column"}, then chunks of
{"rows": [[number, cells, uncached_columns?], ...]}, then {"end": true} — or a single
{"error": code, "message": text} at any point.
"""

import io
import json
import re
import resource
import sys
import zipfile
from collections.abc import Iterator
from itertools import batched
from xml.etree.ElementTree import ParseError

import python_calamine
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring as parse_xml
from python_calamine import SheetTypeEnum, SheetVisibleEnum

from core.imports.cells import column_index
from core.imports.layout import HEADER_SEARCH_ROWS, data_rows, find_header, missing_headers, normalised_rows
from core.imports.spreadsheet import SpreadsheetError

_CELL = re.compile(rb"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]+)"')
_FORMULA = re.compile(rb"<(?:\w+:)?f\b")
_CACHED_VALUE = re.compile(rb"<(?:\w+:)?v\b[^>]*>[^<]+<|<(?:\w+:)?is\b")
_STRING_RESULT = re.compile(rb'\bt="str"')
_REL_NS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}id"
_ODS_CONFIG_NAME = "{urn:oasis:names:tc:opendocument:xmlns:config:1.0}name"


_TOO_LARGE = "The workbook needs more memory to read than allowed."


def main(config_json: str) -> None:
    config = json.loads(config_json)
    _limit_resources(config["max_memory_bytes"], config["max_cpu_seconds"])
    try:
        data = sys.stdin.buffer.read()
        for message in read_workbook(data, config):
            _send(message)
    except SpreadsheetError as exc:
        _send({"error": exc.code, "message": exc.message})
    except MemoryError:
        _send({"error": "too_large", "message": _TOO_LARGE})
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # includes calamine's PanicException, which is not an Exception
        _send(
            {"error": "unreadable_file", "message": f"The workbook could not be read ({type(exc).__name__})."}
        )
    sys.stdout.buffer.flush()


def _send(message: dict) -> None:
    sys.stdout.buffer.write(json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode() + b"\n")


def _limit_resources(max_memory_bytes: int, max_cpu_seconds: int) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # an abort must not leave a core file behind
    resource.setrlimit(resource.RLIMIT_AS, (max_memory_bytes, max_memory_bytes))
    resource.setrlimit(resource.RLIMIT_CPU, (max_cpu_seconds, max_cpu_seconds + 5))


def read_workbook(data: bytes, config: dict) -> Iterator[dict]:
    required = [(label, set(keys)) for label, keys in config["required"]]
    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
    except python_calamine.PasswordError:
        raise SpreadsheetError(
            "password_protected", "The workbook is password-protected; save it without one."
        )
    except Exception as exc:  # calamine raises several unrelated types for damaged files
        raise SpreadsheetError("unreadable_file", f"The workbook could not be read ({type(exc).__name__}).")

    archive = zipfile.ZipFile(io.BytesIO(data)) if config["format"] in ("xlsx", "ods") else None
    first_failure = None
    for index in _sheet_order(workbook, archive, config["format"]):
        sheet = _load_sheet(workbook, index)
        rows = normalised_rows(sheet.iter_rows())
        header = find_header(rows)
        missing = missing_headers(header[1] if header else [], required)
        if header and not missing:
            break
        first_failure = first_failure or (workbook.sheet_names[index], header, missing)
    else:
        raise _missing_headers_error(*first_failure) if first_failure else _empty_workbook()

    if sheet.height > config["max_rows"] + HEADER_SEARCH_ROWS:
        raise SpreadsheetError(
            "too_many_rows", f"The sheet has {sheet.height} rows; at most {config['max_rows']} are accepted."
        )
    header_row, header_cells = header
    start_column = sheet.start[1] if sheet.start else 0  # rows from calamine begin at the first used column
    yield {
        "sheet": workbook.sheet_names[index],
        "header_row": header_row,
        "headers": header_cells,
        "first_column": start_column,
    }

    uncached = {}
    if config["format"] == "xlsx":
        uncached = _uncached_formula_cells(archive, _xlsx_sheet_part(archive, index), start_column)
    width = len(header_cells)
    last_number = header_row
    for chunk in batched(data_rows(rows, header_row + 1, width, keep=uncached), config["chunk_rows"]):
        yield {"rows": [_row_message(number, cells, uncached) for number, cells in chunk]}
        last_number = chunk[-1][0]
    # Rows holding nothing but uncalculated formulas may lie below calamine's grid.
    trailing = sorted(number for number in uncached if number > last_number)
    if trailing:
        yield {"rows": [_row_message(number, [None] * width, uncached) for number in trailing]}
    yield {"end": True}


def _row_message(number: int, cells: list, uncached: dict[int, set[int]]) -> list:
    return [number, cells, sorted(uncached[number])] if number in uncached else [number, cells]


def _load_sheet(workbook, index: int):
    try:
        return workbook.get_sheet_by_index(index)
    except MemoryError:
        raise
    except Exception as exc:
        name = workbook.sheet_names[index]
        raise SpreadsheetError("unreadable_file", f"Sheet '{name}' could not be read ({type(exc).__name__}).")


def _sheet_order(workbook, archive: zipfile.ZipFile | None, fmt: str) -> list[int]:
    """The active sheet first, then the other visible worksheets in workbook order."""
    metadata = workbook.sheets_metadata
    worksheets = [i for i, meta in enumerate(metadata) if meta.typ == SheetTypeEnum.WorkSheet]
    active = _active_sheet(archive, fmt, workbook.sheet_names)
    first = [active] if active in worksheets else []
    return first + [i for i in worksheets if i != active and metadata[i].visible == SheetVisibleEnum.Visible]


def _active_sheet(archive: zipfile.ZipFile | None, fmt: str, names: list[str]) -> int | None:
    """Index of the sheet that was selected when the file was saved (xlsx, ods); None when not recorded.

    For xls and xlsb the first visible worksheet stands in for it (calamine does not expose the active tab).
    """
    if archive is None:
        return None
    try:
        if fmt == "xlsx":
            for element in parse_xml(archive.read("xl/workbook.xml")).iter():
                if element.tag.endswith("workbookView"):
                    return int(element.get("activeTab", "0"))
        elif fmt == "ods" and "settings.xml" in archive.namelist():
            for element in parse_xml(archive.read("settings.xml")).iter():
                if element.get(_ODS_CONFIG_NAME) == "ActiveTable" and element.text in names:
                    return names.index(element.text)
    except (KeyError, ValueError, ParseError, DefusedXmlException):
        return None
    return None


def _xlsx_sheet_part(archive: zipfile.ZipFile, index: int) -> str | None:
    """Archive path of the index-th sheet of an xlsx workbook (via the workbook relationships)."""
    try:
        sheets = [e for e in parse_xml(archive.read("xl/workbook.xml")).iter() if e.tag.endswith("}sheet")]
        rel_id = sheets[index].get(_REL_NS)
        rels = parse_xml(archive.read("xl/_rels/workbook.xml.rels"))
    except (KeyError, IndexError, ParseError, DefusedXmlException):
        return None
    for rel in rels.iter():
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            return target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    return None


def _uncached_formula_cells(
    archive: zipfile.ZipFile, part: str | None, start_column: int
) -> dict[int, set[int]]:
    """{row number: column indexes relative to the grid} of formula cells saved without a calculated value.

    calamine leaves such cells out entirely (files written by scripts and never opened in Excel have them).
    A formula whose cached result is the empty string (`t="str"`) is a genuine empty value.
    """
    if part is None or part not in archive.namelist():
        return {}
    xml = archive.read(part)
    if not _FORMULA.search(xml):
        return {}
    cells: dict[int, set[int]] = {}
    for match in _CELL.finditer(xml):
        attributes, body = match.group(1), match.group(2) or b""
        if not _FORMULA.search(body) or _CACHED_VALUE.search(body) or _STRING_RESULT.search(attributes):
            continue
        ref = _REF.search(attributes)
        if ref:
            row, column = int(ref.group(2)), column_index(ref.group(1).decode()) - start_column
            if column >= 0:
                cells.setdefault(row, set()).add(column)
    return cells


def _missing_headers_error(sheet_name: str, header, missing: list[str]) -> SpreadsheetError:
    if header is None:
        return SpreadsheetError(
            "missing_headers",
            f"No header row in the first {HEADER_SEARCH_ROWS} rows of sheet '{sheet_name}', "
            f"and no other sheet has the required columns ({', '.join(missing)}).",
        )
    row, cells = header
    found = ", ".join(cell for cell in cells if cell) or "none"
    return SpreadsheetError(
        "missing_headers",
        f"Missing required column(s): {', '.join(missing)}. Columns found in sheet '{sheet_name}' row {row}: "
        f"{found}. Header names are compared ignoring case, spaces and _-.() characters.",
    )


def _empty_workbook() -> SpreadsheetError:
    return SpreadsheetError("empty_file", "The workbook has no visible worksheet.")


if __name__ == "__main__":
    main(sys.argv[1])
