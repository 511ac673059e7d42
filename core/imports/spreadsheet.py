"""Reading an uploaded spreadsheet (xlsx, xlsb, xls, ods or csv) into normalised rows.

The format is recognised by content, never by file name. Workbooks are read by python-calamine in a
resource-limited subprocess (see workbook_worker); CSV is read here with the standard library. Either way
rows come out lazily, so the caller can work in chunks:

    with open_spreadsheet(data, COLUMNS) as sheet:
        for chunk in sheet.chunks(1000):
            ...
"""

import csv
import io
import json
import logging
import os
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import batched
from pathlib import Path
from typing import BinaryIO, NamedTuple

from core.imports.cells import column_letter, header_key, normalise_text_cell
from core.imports.layout import data_rows, find_header, missing_headers, normalised_rows


class SpreadsheetError(Exception):
    """The file as a whole cannot be imported; `code` is machine-readable, `message` is for the operator."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Column:
    """A target field and the header spellings that feed it (compared with cells.header_key)."""

    field: str
    headers: tuple[str, ...]
    required: bool = False

    @property
    def keys(self) -> frozenset[str]:
        return frozenset(header_key(h) for h in self.headers)


@dataclass(frozen=True)
class ReaderLimits:
    """Bounds that keep hostile files from exhausting the worker."""

    max_file_bytes: int = 50 * 2**20
    max_uncompressed_bytes: int = 512 * 2**20  # declared size of all archive members together
    max_compression_ratio: int = 100  # per archive member larger than 1 MB; real sheets are below 15
    max_archive_entries: int = 2000
    max_memory_bytes: int = 2 * 2**30  # address space of the reader subprocess
    max_cpu_seconds: int = 120
    max_rows: int = 500_000


class SheetRow(NamedTuple):
    number: int  # spreadsheet row number, as the operator sees it
    values: dict[str, str | None]  # field → normalised cell (None when blank or the column is absent)
    original: dict[str, str | None]  # header label → normalised cell, every column (for the rejects CSV)
    uncalculated: frozenset[str] = frozenset()  # fields whose cell is a formula saved without a value


logger = logging.getLogger(__name__)

_RawRow = tuple[int, list[str | None], frozenset[int]]

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ODS_MIMETYPE = b"application/vnd.oasis.opendocument.spreadsheet"
_BINARY_SIGNATURES = {
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"{\\rtf": "an RTF document",
    b"\x1f\x8b": "a gzip archive",
    b"Rar!": "a RAR archive",
    b"7z\xbc\xaf": "a 7-Zip archive",
}
_CSV_DELIMITERS = ",;\t|"
_SEPARATOR_DIRECTIVE = re.compile(r"sep=(.)\r?\n")
_ROOT = str(Path(__file__).resolve().parents[2])
_BOOT = (
    "import sys; sys.path.insert(0, sys.argv[1]); "
    "from core.imports.workbook_worker import main; main(sys.argv[2])"
)


def detect_format(data: bytes, limits: ReaderLimits = ReaderLimits()) -> str:
    """'xlsx', 'xlsb', 'ods', 'xls' or 'csv' from the bytes themselves; SpreadsheetError for anything else."""
    if not data:
        raise SpreadsheetError("empty_file", "The file is empty.")
    if data.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _archive_format(data, limits)
    if data.startswith(_OLE2):
        if "EncryptedPackage".encode("utf-16-le") in data:
            raise SpreadsheetError(
                "password_protected", "The workbook is password-protected; save it without one."
            )
        return "xls"
    for signature, kind in _BINARY_SIGNATURES.items():
        if data.startswith(signature):
            raise SpreadsheetError("not_a_spreadsheet", f"The file is {kind}, not a spreadsheet.")
    head = data[:65536]
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise SpreadsheetError(
            "not_a_spreadsheet",
            "The file is HTML or XML (for example a sheet saved as a web page), not a workbook; "
            "save it as .xlsx.",
        )
    if b"\x00" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SpreadsheetError(
            "not_a_spreadsheet", "The file is binary data of an unknown kind, not a spreadsheet."
        )
    return "csv"


def _archive_format(data: bytes, limits: ReaderLimits) -> str:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
        names = {m.filename for m in members}
        mimetype = archive.read("mimetype").strip() if "mimetype" in names else b""
    # NotImplementedError: zipfile's answer to an unknown ZIP version or compression method in a damaged file.
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        OSError,
        EOFError,
        ValueError,
        NotImplementedError,
    ) as exc:
        raise SpreadsheetError("corrupt_file", f"The file is a damaged ZIP archive ({exc}).")
    if len(members) > limits.max_archive_entries:
        raise SpreadsheetError(
            "zip_bomb", f"The archive has {len(members)} members; a workbook has far fewer."
        )
    expanded = sum(m.file_size for m in members)
    if expanded > limits.max_uncompressed_bytes:
        raise SpreadsheetError(
            "zip_bomb",
            f"The workbook would expand to {expanded // 2**20} MB "
            f"(limit {limits.max_uncompressed_bytes // 2**20} MB); it is not a normal spreadsheet.",
        )
    for member in members:
        if member.file_size > 2**20 and member.file_size > limits.max_compression_ratio * max(
            member.compress_size, 1
        ):
            raise SpreadsheetError(
                "zip_bomb",
                f"Archive member {member.filename!r} is compressed suspiciously well (a zip bomb?).",
            )
    if "xl/workbook.xml" in names:
        return "xlsx"
    if "xl/workbook.bin" in names:
        return "xlsb"
    if mimetype == _ODS_MIMETYPE:
        return "ods"
    raise SpreadsheetError(
        "not_a_spreadsheet",
        "The file is a ZIP archive but not an Excel (.xlsx) or OpenDocument (.ods) workbook "
        "(a Word document, for example).",
    )


class Spreadsheet:
    """One opened sheet: its header layout, then its data rows (streamed once)."""

    def __init__(
        self,
        format: str,
        sheet_name: str | None,
        header_row: int,
        header_cells: Sequence[str | None],
        columns: Sequence[Column],
        raw_rows: Iterator[_RawRow],
        on_close=None,
        first_column: int = 0,
    ) -> None:
        self.format = format
        self.sheet_name = sheet_name
        self.header_row = header_row
        self.headers = _unique_labels(header_cells, first_column)
        self.fields = [column.field for column in columns]
        self.column_of: dict[str, int] = {}  # field → column index (first matching header wins)
        for column in columns:
            index = next(
                (i for i, cell in enumerate(header_cells) if cell and header_key(cell) in column.keys), None
            )
            if index is not None:
                self.column_of[column.field] = index
        used = set(self.column_of.values())
        self.ignored_headers = [cell for i, cell in enumerate(header_cells) if cell and i not in used]
        self._raw_rows = raw_rows
        self._on_close = on_close

    def rows(self) -> Iterator[SheetRow]:
        width = len(self.headers)
        for number, cells, uncached in self._raw_rows:
            cells = (cells + [None] * width)[:width]
            values = {
                field: cells[self.column_of[field]] if field in self.column_of else None
                for field in self.fields
            }
            uncalculated = frozenset(field for field, index in self.column_of.items() if index in uncached)
            yield SheetRow(number, values, dict(zip(self.headers, cells, strict=True)), uncalculated)

    def chunks(self, size: int = 1000) -> Iterator[list[SheetRow]]:
        for chunk in batched(self.rows(), size):
            yield list(chunk)

    def close(self) -> None:
        if self._on_close:
            self._on_close()
            self._on_close = None

    def __enter__(self) -> "Spreadsheet":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def open_spreadsheet(
    source: bytes | str | os.PathLike | BinaryIO,
    columns: Sequence[Column],
    limits: ReaderLimits = ReaderLimits(),
) -> Spreadsheet:
    """Open the sheet holding the required columns; SpreadsheetError if the file cannot be imported at all."""
    data = _read_source(source, limits.max_file_bytes)
    fmt = detect_format(data, limits)
    required = [(c.headers[0], sorted(c.keys)) for c in columns if c.required]
    if fmt == "csv":
        return _open_csv(data, columns, required, limits)
    return _open_workbook(data, fmt, columns, required, limits)


def _read_source(source: bytes | str | os.PathLike | BinaryIO, max_bytes: int) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    elif isinstance(source, str | os.PathLike):
        try:
            with open(source, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise SpreadsheetError("unreadable_file", f"The file could not be opened ({exc.strerror}).")
    else:
        data = source.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise SpreadsheetError("file_too_large", f"The file is larger than {max_bytes // 2**20} MB.")
    return data


def _unique_labels(header_cells: Sequence[str | None], first_column: int) -> list[str]:
    """Header texts usable as CSV column names: blanks named after their column, repeats numbered."""
    labels: list[str] = []
    for index, cell in enumerate(header_cells, start=first_column):
        label = cell or f"Column {column_letter(index)}"
        base, n = label, 2
        while label in labels:
            label, n = f"{base} ({n})", n + 1
        labels.append(label)
    return labels


# --- CSV -------------------------------------------------------------------------------------------------


def _open_csv(data: bytes, columns: Sequence[Column], required, limits: ReaderLimits) -> Spreadsheet:
    text = _decode_text(data)
    directive = _SEPARATOR_DIRECTIVE.match(text)  # Excel's "sep=;" first line is not a row
    if directive:
        text, delimiter = text[directive.end() :], directive.group(1)
    else:
        delimiter = _guess_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows = normalised_rows(_csv_records(reader), normalise_text_cell)
    header = find_header(rows)
    missing = missing_headers(header[1] if header else [], required)
    if header is None or missing:
        found = ", ".join(cell for cell in (header[1] if header else []) if cell) or "none"
        raise SpreadsheetError(
            "missing_headers",
            f"Missing required column(s): {', '.join(missing)}. Columns found: {found}. "
            "The header must be the first non-empty row within the first 10.",
        )
    header_row, header_cells = header

    def raw_rows() -> Iterator[_RawRow]:
        for count, (number, cells) in enumerate(data_rows(rows, header_row + 1, len(header_cells)), start=1):
            if count > limits.max_rows:
                raise SpreadsheetError(
                    "too_many_rows", f"The file has more than {limits.max_rows} data rows."
                )
            yield number, cells, frozenset()

    return Spreadsheet("csv", None, header_row, header_cells, columns, raw_rows())


def _csv_records(reader) -> Iterator[list[str]]:
    try:
        yield from reader
    except csv.Error as exc:
        raise SpreadsheetError("unreadable_file", f"CSV record {reader.line_num}: {exc}.")


def _decode_text(data: bytes) -> str:
    """UTF-16 when it has a byte-order mark, else UTF-8 (with or without BOM), else Windows-1252."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise SpreadsheetError("unreadable_file", "The text file claims UTF-16 but is not valid UTF-16.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _guess_delimiter(text: str) -> str:
    """The most frequent of , ; tab | on the first non-empty line (the header); comma when none occurs."""
    first_line = next((line for line in text[:65536].splitlines() if line.strip()), "")
    counts = {delimiter: first_line.count(delimiter) for delimiter in _CSV_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


# --- workbooks (subprocess) -------------------------------------------------------------------------------


def _open_workbook(
    data: bytes, fmt: str, columns: Sequence[Column], required, limits: ReaderLimits
) -> Spreadsheet:
    config = {
        "format": fmt,
        "required": required,
        "chunk_rows": 1000,
        "max_rows": limits.max_rows,
        "max_memory_bytes": limits.max_memory_bytes,
        "max_cpu_seconds": limits.max_cpu_seconds,
    }
    process = _WorkbookProcess(data, config)
    try:
        first = process.next_message()
        if "rows" in first or "end" in first:
            raise SpreadsheetError("unreadable_file", "The workbook reader answered out of order.")
    except BaseException:
        process.close()
        raise
    return Spreadsheet(
        fmt,
        first["sheet"],
        first["header_row"],
        first["headers"],
        columns,
        process.rows(),
        process.close,
        first["first_column"],
    )


class _WorkbookProcess:
    """The reader subprocess and its JSON-lines answer."""

    def __init__(self, data: bytes, config: dict) -> None:
        # A file, not a pipe, so a chatty child can never block; it lives as long as the process (see close).
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115
        self._proc = subprocess.Popen(
            [sys.executable, "-I", "-c", _BOOT, _ROOT, json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
        )
        try:
            self._proc.stdin.write(data)
        except BrokenPipeError:
            pass  # the child died early; its exit status explains why
        finally:
            self._proc.stdin.close()

    def next_message(self) -> dict:
        line = self._proc.stdout.readline()
        if not line:
            raise self._failure()
        try:
            message = json.loads(line)
        except ValueError:
            raise SpreadsheetError("unreadable_file", "The workbook reader gave an unreadable answer.")
        if "error" in message:
            raise SpreadsheetError(message["error"], message["message"])
        return message

    def rows(self) -> Iterator[_RawRow]:
        try:
            while "end" not in (message := self.next_message()):
                for number, cells, *uncached in message["rows"]:
                    yield number, cells, frozenset(uncached[0]) if uncached else frozenset()
        finally:
            self.close()

    def _failure(self) -> SpreadsheetError:
        status = self._proc.wait()
        self._stderr.seek(0)
        # The reader's diagnostics (a Rust panic, a traceback) may quote cell text: debug level only.
        logger.debug("workbook reader exited with %s: %s", status, self._stderr.read()[-2000:])
        if status in (-6, -9, -11):  # abort on a failed allocation, or killed by the memory limit
            return SpreadsheetError(
                "too_large",
                "The workbook needs more memory to read than allowed (cells spread over a huge area, "
                "or a compressed bomb).",
            )
        if status == -24:  # SIGXCPU: the CPU-time limit
            return SpreadsheetError("too_slow", "Reading the workbook took longer than allowed.")
        return SpreadsheetError(
            "unreadable_file", f"The workbook could not be read (reader exit status {status})."
        )

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._proc.stdout.close()
        self._stderr.close()
