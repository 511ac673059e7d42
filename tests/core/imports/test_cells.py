import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.imports.cells import column_index, column_letter, header_key, normalise_cell, normalise_text_cell
from core.imports.layout import find_header, missing_headers


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (100154.0, "100154"),
        (2072831147.0, "2072831147"),
        (-3.0, "-3"),
        (12.5, "12.5"),
        (0.1 + 0.2, "0.3"),
        (7, "7"),
        ("", None),
        ("   ", None),
        (None, None),
        ("  St  Mary's \t C of E\n Primary ", "St Mary's C of E Primary"),
        ("non\u00a0breaking", "non breaking"),
        (True, "TRUE"),
        (dt.datetime(2024, 9, 1), "2024-09-01"),
        (dt.datetime(2024, 9, 1, 8, 30), "2024-09-01 08:30:00"),
        (dt.date(2024, 9, 1), "2024-09-01"),
        (dt.time(8, 30), "08:30:00"),
        (float("inf"), "inf"),
    ],
)
def test_normalise_cell(value, expected):
    assert normalise_cell(value) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100154.0", "100154"),
        (" 2072831147.00 ", "2072831147"),
        ("1.5", "1.5"),
        ("v1.0 beta", "v1.0 beta"),
        ("", None),
    ],
)
def test_text_cells_from_csv(text, expected):
    assert normalise_text_cell(text) == expected


@given(st.text())
def test_cell_normalisation_is_idempotent(text):
    once = normalise_cell(text)
    assert once is None or normalise_cell(once) == once


@pytest.mark.parametrize(
    "header",
    [
        "OrganizationName",
        "organizationname",
        "Organization Name",
        "ORGANIZATION_NAME",
        "organization-name",
        " Organization.Name ",
    ],
)
def test_header_spellings_share_one_key(header):
    assert header_key(header) == "organizationname"


def test_dfe_header_keys():
    assert header_key("LA (name)") == "laname"
    assert header_key("PhaseOfEducation (name)") == "phaseofeducationname"


@pytest.mark.parametrize(
    ("index", "letters"), [(0, "A"), (25, "Z"), (26, "AA"), (701, "ZZ"), (702, "AAA"), (16383, "XFD")]
)
def test_column_letters_round_trip(index, letters):
    assert column_letter(index) == letters
    assert column_index(letters) == index


def test_find_header_skips_leading_empty_rows_only_within_ten():
    rows = [[None], [None, None], ["URN", None]]
    assert find_header(iter(rows)) == (3, ["URN", None])
    assert find_header(iter([[None]] * 10 + [["URN"]])) is None


def test_missing_headers_lists_labels():
    required = [("OrganizationName", ["organizationname"]), ("LocalAuthority", ["localauthority", "laname"])]
    assert missing_headers(["LA (name)", "Name"], required) == ["OrganizationName"]
