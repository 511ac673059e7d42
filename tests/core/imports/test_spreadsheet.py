import io
import zipfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.imports.spreadsheet import (
    Column,
    ReaderLimits,
    SpreadsheetError,
    detect_format,
    open_spreadsheet,
)
from tests.core.imports import workbooks

COLUMNS = (
    Column("urn", ("URN",)),
    Column("name", ("OrganizationName", "OrganisationName"), required=True),
    Column("local_authority", ("LocalAuthority",), required=True),
)
HEADER = ["URN", "OrganizationName", "LocalAuthority"]
ROWS = [
    HEADER,
    [100154.0, "  Manor   Junior  ", "Barking and Dagenham"],
    [100155, "Dorothy Barley Infants'", "Barking"],
]


DEFAULT_LIMITS = ReaderLimits()


def read_all(source, columns=COLUMNS, limits=DEFAULT_LIMITS):
    with open_spreadsheet(source, columns, limits) as sheet:
        return sheet, list(sheet.rows())


@pytest.mark.parametrize(
    "data",
    [
        workbooks.xlsx({"Schools": ROWS}),
        workbooks.xls({"Schools": ROWS}),
        workbooks.ods({"Schools": ROWS}),
        workbooks.csv_bytes(ROWS),
    ],
    ids=["xlsx", "xls", "ods", "csv"],
)
def test_every_format_gives_the_same_normalised_rows(data):
    sheet, rows = read_all(data)
    assert [r.number for r in rows] == [2, 3]
    assert rows[0].values == {
        "urn": "100154",
        "name": "Manor Junior",
        "local_authority": "Barking and Dagenham",
    }
    assert rows[1].values["urn"] == "100155"
    assert rows[0].original == {
        "URN": "100154",
        "OrganizationName": "Manor Junior",
        "LocalAuthority": "Barking and Dagenham",
    }
    assert sheet.header_row == 1
    assert sheet.ignored_headers == []


def test_format_is_recognised_by_content_not_by_name(tmp_path):
    path = tmp_path / "schools.csv"  # an xlsx workbook with the wrong extension
    path.write_bytes(workbooks.xlsx({"S": ROWS}))
    sheet, rows = read_all(path)
    assert sheet.format == "xlsx"
    assert len(rows) == 2
    assert read_all(io.BytesIO(workbooks.ods({"S": ROWS})))[0].format == "ods"


@pytest.mark.parametrize(
    ("data", "code", "words"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "not_a_spreadsheet", "PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00", "not_a_spreadsheet", "PNG"),
        (b"<html><body><table><tr><td>URN</td></tr></table></body></html>", "not_a_spreadsheet", "HTML"),
        (b"\x00\x01\x02binary\x00junk", "not_a_spreadsheet", "binary"),
        (b"", "empty_file", "empty"),
        (b"PK\x03\x04 this is not really a zip", "corrupt_file", "damaged"),
    ],
)
def test_non_spreadsheets_get_a_clear_error(data, code, words):
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(data, COLUMNS)
    assert caught.value.code == code
    assert words in caught.value.message


def test_a_word_document_renamed_xlsx_is_refused():
    docx = workbooks.zip_with({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<w:document/>"})
    with pytest.raises(SpreadsheetError) as caught:
        detect_format(docx)
    assert caught.value.code == "not_a_spreadsheet"
    assert "ZIP archive" in caught.value.message


def test_encrypted_workbook_is_reported_as_password_protected():
    ole2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100 + "EncryptedPackage".encode("utf-16-le")
    with pytest.raises(SpreadsheetError) as caught:
        detect_format(ole2)
    assert caught.value.code == "password_protected"


def test_a_broken_ole2_file_is_unreadable_not_a_crash():
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\xff" * 2000, COLUMNS)
    assert caught.value.code == "unreadable_file"


def test_zip_bomb_is_refused_before_reading():
    padding = b" " * (20 * 2**20)  # 20 MB of spaces compress about 1000:1
    bomb = workbooks.rewrite_member(
        workbooks.xlsx({"S": ROWS}), "docProps/app.xml", b"</Properties>", padding + b"</Properties>"
    )
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(bomb, COLUMNS)
    assert caught.value.code == "zip_bomb"


def test_declared_expansion_over_the_limit_is_refused():
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(workbooks.xlsx({"S": ROWS}), COLUMNS, ReaderLimits(max_uncompressed_bytes=2000))
    assert caught.value.code == "zip_bomb"
    assert "expand" in caught.value.message


def test_cells_spread_over_a_huge_area_fail_cleanly_within_the_memory_limit():
    # 1 KB on disk, but calamine would allocate a dense grid of 17 billion cells and abort the process.
    data = workbooks.raw_xlsx(
        b'<row r="1">'
        + workbooks.inline_cell("A1", "OrganizationName")
        + workbooks.inline_cell("B1", "LocalAuthority")
        + b'</row><row r="1048576"><c r="XFD1048576"><v>1</v></c></row>'
    )
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(data, COLUMNS)
    assert caught.value.code == "too_large"


def test_file_size_limit():
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(workbooks.csv_bytes(ROWS), COLUMNS, ReaderLimits(max_file_bytes=10))
    assert caught.value.code == "file_too_large"


def test_too_many_rows():
    rows = [HEADER] + [[i, f"School {i}", "Kent"] for i in range(30)]
    for data in (workbooks.xlsx({"S": rows}), workbooks.csv_bytes(rows)):
        with pytest.raises(SpreadsheetError) as caught:
            read_all(data, limits=ReaderLimits(max_rows=5))
        assert caught.value.code == "too_many_rows"


def test_missing_required_headers_names_them_and_the_headers_found():
    data = workbooks.xlsx({"Sheet1": [["URN", "Name", "Authority"], [1, "A", "B"]]})
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(data, COLUMNS)
    error = caught.value
    assert error.code == "missing_headers"
    assert "OrganizationName" in error.message and "LocalAuthority" in error.message
    assert "URN, Name, Authority" in error.message


def test_missing_headers_in_csv():
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(workbooks.csv_bytes([["Name", "Town"], ["A", "B"]]), COLUMNS)
    assert caught.value.code == "missing_headers"
    assert "Columns found: Name, Town" in caught.value.message


@pytest.mark.parametrize("build", [workbooks.xlsx, workbooks.ods])
def test_active_sheet_is_preferred(build):
    other = [HEADER, [1, "Other School", "Kent"]]
    data = build({"First": other, "Chosen": ROWS}, active="Chosen")
    sheet, rows = read_all(data)
    assert sheet.sheet_name == "Chosen"
    assert rows[0].values["name"] == "Manor Junior"


def test_first_sheet_with_the_headers_when_the_active_one_lacks_them():
    data = workbooks.xlsx(
        {"Notes": [["Read me"]], "Old": [["x"]], "Schools": ROWS, "Later": ROWS}, active="Notes"
    )
    sheet, _ = read_all(data)
    assert sheet.sheet_name == "Schools"


def test_header_row_is_the_first_non_empty_row_within_ten():
    for build in (workbooks.xlsx, lambda s: workbooks.xlsx(s, start_row=4)):
        sheet, rows = read_all(build({"S": ROWS}))
        assert [r.number for r in rows] == [sheet.header_row + 1, sheet.header_row + 2]
    sheet, rows = read_all(workbooks.xlsx({"S": ROWS}, start_row=4))
    assert sheet.header_row == 4
    assert [r.number for r in rows] == [5, 6]
    csv_sheet, csv_rows = read_all(workbooks.csv_bytes([[], [None, None], *ROWS]))
    assert csv_sheet.header_row == 3
    assert csv_rows[0].number == 4


def test_header_below_row_ten_is_not_found():
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(workbooks.xlsx({"S": ROWS}, start_row=11), COLUMNS)
    assert caught.value.code == "missing_headers"
    assert "first 10 rows" in caught.value.message


def test_header_variants_match_after_normalisation():
    header = ["urn", "Organisation Name", "LOCAL_AUTHORITY", "Notes"]
    sheet, rows = read_all(workbooks.csv_bytes([header, ["7", "A", "B", "x"]]))
    assert rows[0].values == {"urn": "7", "name": "A", "local_authority": "B"}
    assert sheet.ignored_headers == ["Notes"]


def test_first_matching_column_wins_and_later_duplicates_are_ignored():
    header = ["OrganizationName", "LocalAuthority", "Organization Name"]
    sheet, rows = read_all(workbooks.csv_bytes([header, ["First", "Kent", "Second"]]))
    assert rows[0].values["name"] == "First"
    assert sheet.ignored_headers == ["Organization Name"]


def test_empty_rows_are_skipped_and_numbers_stay_spreadsheet_numbers():
    rows = [HEADER, [1, "A", "Kent"], [None, None, None], ["", "  ", ""], [2, "B", "Kent"]]
    for data in (workbooks.xlsx({"S": rows}), workbooks.csv_bytes(rows)):
        _, read = read_all(data)
        assert [r.number for r in read] == [2, 5]


def test_blank_and_repeated_header_labels_get_unique_names_for_the_rejects_csv():
    header = ["OrganizationName", "LocalAuthority", None, "Note", "Note"]
    sheet, rows = read_all(workbooks.csv_bytes([header, ["A", "Kent", "x", "y", "z"]]))
    assert sheet.headers == ["OrganizationName", "LocalAuthority", "Column C", "Note", "Note (2)"]
    assert rows[0].original["Column C"] == "x"
    assert rows[0].original["Note (2)"] == "z"


def test_blank_header_label_uses_the_real_column_letter_when_the_sheet_starts_further_right():
    data = workbooks.xlsx(
        {"S": [[None, "OrganizationName", "LocalAuthority", None], [None, "A", "Kent", "x"]]}
    )
    sheet, rows = read_all(data)
    assert sheet.headers == ["OrganizationName", "LocalAuthority", "Column D"]
    assert rows[0].original["Column D"] == "x"


def test_excel_separator_directive_line():
    data = b"sep=;\r\n" + workbooks.csv_bytes([HEADER, ["1", "A, B", "Kent"]], delimiter=";")
    sheet, rows = read_all(data)
    assert sheet.header_row == 1
    assert rows[0].values["name"] == "A, B"


def test_fields_without_a_column_are_none():
    _, rows = read_all(workbooks.csv_bytes([["OrganizationName", "LocalAuthority"], ["A", "Kent"]]))
    assert rows[0].values == {"urn": None, "name": "A", "local_authority": "Kent"}


def test_short_csv_rows_are_padded():
    _, rows = read_all(workbooks.csv_bytes([HEADER, ["1", "Only name"]]))
    assert rows[0].values == {"urn": "1", "name": "Only name", "local_authority": None}


@pytest.mark.parametrize(
    ("encoding", "prefix"),
    [("utf-8", b""), ("utf-8", b"\xef\xbb\xbf"), ("cp1252", b""), ("utf-16", b"")],
)
def test_csv_encodings(encoding, prefix):
    rows = [HEADER, ["1", "Ysgol Gymraeg – Saint-Étienne’s", "Cardiff"]]
    _, read = read_all(prefix + workbooks.csv_bytes(rows, encoding=encoding))
    assert read[0].values["name"] == "Ysgol Gymraeg – Saint-Étienne’s"


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_csv_delimiter_is_taken_from_the_header_line(delimiter):
    _, rows = read_all(workbooks.csv_bytes([HEADER, ["1", "A, B; C | D", "Kent"]], delimiter=delimiter))
    assert rows[0].values == {"urn": "1", "name": "A, B; C | D", "local_authority": "Kent"}


def test_formula_without_a_cached_value_is_flagged_per_field():
    data = workbooks.xlsx({"S": [HEADER, [1, '=CONCAT("A","B")', "Kent"], [2, "Plain", '=UPPER("x")']]})
    _, rows = read_all(data)
    assert rows[0].values["name"] is None
    assert rows[0].uncalculated == frozenset({"name"})
    assert rows[1].uncalculated == frozenset({"local_authority"})


def test_formula_with_a_cached_value_reads_the_value():
    data = workbooks.xlsx({"S": [HEADER, [1, '=CONCAT("A","B")', "Kent"]]})
    # What Excel saves: the formula and its last result.
    data = workbooks.rewrite_member(data, "xl/worksheets/sheet1.xml", b"<v></v>", b"<v>AB</v>")
    data = workbooks.rewrite_member(data, "xl/worksheets/sheet1.xml", b'<c r="B2">', b'<c r="B2" t="str">')
    _, rows = read_all(data)
    assert rows[0].values["name"] == "AB"
    assert rows[0].uncalculated == frozenset()


def test_formula_with_an_empty_string_result_is_a_genuine_blank():
    data = workbooks.xlsx({"S": [HEADER, [1, '=""', "Kent"]]})
    data = workbooks.rewrite_member(data, "xl/worksheets/sheet1.xml", b'<c r="B2">', b'<c r="B2" t="str">')
    _, rows = read_all(data)
    assert rows[0].uncalculated == frozenset()
    assert rows[0].values["name"] is None


def test_row_of_only_uncalculated_formulas_is_still_reported():
    data = workbooks.xlsx({"S": [HEADER, [1, "A", "Kent"], [None, "=1+1", None]]})
    _, rows = read_all(data)
    assert [r.number for r in rows] == [2, 3]
    assert rows[1].uncalculated == frozenset({"name"})


def test_rows_come_in_chunks():
    rows = [HEADER] + [[i, f"School {i}", "Kent"] for i in range(2999)]
    for data in (workbooks.xlsx({"S": rows}), workbooks.csv_bytes(rows)):
        with open_spreadsheet(data, COLUMNS) as sheet:
            chunks = list(sheet.chunks(1000))
        assert [len(c) for c in chunks] == [1000, 1000, 999]
        assert chunks[2][-1].number == 3000


def test_closing_early_stops_the_reader_process():
    rows = [HEADER] + [[i, f"School {i}", "Kent"] for i in range(5000)]
    sheet = open_spreadsheet(workbooks.xlsx({"S": rows}), COLUMNS)
    process = sheet._on_close.__self__._proc
    assert next(sheet.rows()).number == 2
    sheet.close()
    assert process.poll() is not None


def test_a_path_that_does_not_exist_is_unreadable(tmp_path):
    with pytest.raises(SpreadsheetError) as caught:
        open_spreadsheet(tmp_path / "missing.xlsx", COLUMNS)
    assert caught.value.code == "unreadable_file"


def test_archive_with_too_many_members_is_refused():
    members = {f"x/{i}.xml": b"<a/>" for i in range(30)} | {"xl/workbook.xml": b"<workbook/>"}
    with pytest.raises(SpreadsheetError) as caught:
        detect_format(workbooks.zip_with(members), ReaderLimits(max_archive_entries=10))
    assert caught.value.code == "zip_bomb"


def test_detect_format_values():
    assert detect_format(workbooks.xlsx({"S": ROWS})) == "xlsx"
    assert detect_format(workbooks.xls({"S": ROWS})) == "xls"
    assert detect_format(workbooks.ods({"S": ROWS})) == "ods"
    assert detect_format(b"URN,Name\r\n1,A\r\n") == "csv"
    assert zipfile.is_zipfile(io.BytesIO(workbooks.xlsx({"S": ROWS})))


VALID_XLSX = workbooks.xlsx({"S": ROWS})


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.binary(max_size=3000), st.text(max_size=2000).map(str.encode)))
def test_arbitrary_bytes_are_read_or_refused_with_a_spreadsheet_error(data):
    try:
        read_all(data)
    except SpreadsheetError as exc:
        assert exc.code and exc.message


@settings(max_examples=15, deadline=None)
@given(st.integers(min_value=0), st.binary(min_size=1, max_size=16))
def test_damaged_workbooks_are_read_or_refused_with_a_spreadsheet_error(position, garbage):
    position %= len(VALID_XLSX)
    data = VALID_XLSX[:position] + garbage + VALID_XLSX[position + len(garbage) :]
    try:
        read_all(data)
    except SpreadsheetError as exc:
        assert exc.code and exc.message
