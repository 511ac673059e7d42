import pytest

from core.imports.organizations import (
    GENDER_CODES,
    ORGANIZATION_COLUMNS,
    PHASE_CODES,
    OrganizationRowValidator,
    normalise_gender,
    normalise_organization_row,
    normalise_phase,
    organization_key,
)
from core.imports.problems import unknown_column_problems
from core.imports.spreadsheet import SheetRow, open_spreadsheet
from tests.core.imports import workbooks

GOOD = {
    "urn": "100000",
    "local_authority": "City of London",
    "name": "Sir John Cass's Foundation Primary School",
    "phase": "Primary",
    "gender": "Mixed",
    "street": "St James's Passage",
    "address_line_1": "Duke's Place",
    "address_line_2": None,
    "town": "London",
    "county": None,
    "postcode": "ec3a5de",
    "telephone": "2072831147",
}


def row(number=2, uncalculated=(), **changes) -> SheetRow:
    values = GOOD | changes
    return SheetRow(number, values, dict(values), frozenset(uncalculated))


def codes(result):
    return [(p.code, p.severity) for p in result.problems]


def test_clean_row():
    result = normalise_organization_row(row())
    assert result.problems == []
    record = result.record
    assert record.urn == "100000"
    assert record.phase == "primary" and record.gender == "mixed"
    assert record.postcode == "EC3A 5DE" and record.postcode_valid
    assert record.telephone == "020 7283 1147"
    assert record.name == GOOD["name"]


@pytest.mark.parametrize("urn", ["URN100000", "10000.5", "-1", "١٢٣"])
def test_urn_must_be_digits(urn):
    result = normalise_organization_row(row(urn=urn))
    assert result.record is None
    assert codes(result) == [("invalid_urn", "error")]
    assert result.problems[0].value == urn


def test_urn_is_optional():
    assert normalise_organization_row(row(urn=None)).record.urn is None


def test_name_and_local_authority_are_required():
    result = normalise_organization_row(row(name=None, local_authority=None))
    assert result.skipped
    assert codes(result) == [("missing_name", "error"), ("missing_local_authority", "error")]


def test_all_errors_of_a_row_are_reported_together():
    result = normalise_organization_row(row(urn="x", name="n" * 256, town="t" * 101))
    assert {c for c, _ in codes(result)} == {"invalid_urn", "value_too_long"}
    too_long = {p.field for p in result.problems if p.code == "value_too_long"}
    assert too_long == {"name", "town"}


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("16 Plus", "16_plus"),
        ("16plus", "16_plus"),
        ("16+", "16_plus"),
        ("All-through", "all_through"),
        ("all_through", "all_through"),
        ("Middle deemed primary", "middle_deemed_primary"),
        ("Middle  Deemed  Secondary", "middle_deemed_secondary"),
        ("Nursery", "nursery"),
        ("PRIMARY", "primary"),
        ("Secondary", "secondary"),
        ("Not applicable", "not_applicable"),
        ("N/A", "not_applicable"),
        (None, "not_applicable"),
    ],
)
def test_phase_table(given, code):
    assert normalise_phase(given) == (code, True)
    assert code in PHASE_CODES


def test_unknown_phase_is_a_warning():
    result = normalise_organization_row(row(phase="Infant and junior"))
    assert result.record.phase == "not_applicable"
    assert codes(result) == [("unknown_phase", "warning")]


@pytest.mark.parametrize(
    ("given", "code"),
    [
        ("Boys", "boys"),
        ("boy", "boys"),
        ("GIRLS", "girls"),
        ("Girl", "girls"),
        ("Mixed", "mixed"),
        ("Not applicable", "not_applicable"),
        ("not_applicable", "not_applicable"),
        (None, "mixed"),
    ],
)
def test_gender_table(given, code):
    assert normalise_gender(given) == (code, True)
    assert code in GENDER_CODES


def test_unknown_gender_is_a_warning():
    result = normalise_organization_row(row(gender="Co-ed"))
    assert result.record.gender == "mixed"
    assert codes(result) == [("unknown_gender", "warning")]


def test_postcode_rules():
    assert normalise_organization_row(row(postcode=" se3  9gj ")).record.postcode == "SE3 9GJ"
    missing = normalise_organization_row(row(postcode=None))
    assert codes(missing) == [("missing_postcode", "warning")]
    assert missing.record.postcode is None
    invalid = normalise_organization_row(row(postcode="LONDON 1"))
    assert codes(invalid) == [("invalid_postcode", "warning")]
    assert invalid.record.postcode == "LONDON 1" and not invalid.record.postcode_valid


def test_overlong_invalid_postcode_is_an_error():
    result = normalise_organization_row(row(postcode="NOT A POSTCODE AT ALL"))
    assert ("value_too_long", "error") in codes(result)
    assert result.skipped


def test_telephone_problems_never_skip_the_row():
    lost = normalise_organization_row(row(telephone="2.00203E+12"))
    assert lost.record.telephone is None
    assert codes(lost) == [("telephone_precision_lost", "warning")]
    unusual = normalise_organization_row(row(telephone="208920600"))
    assert unusual.record.telephone == "0208920600"
    assert codes(unusual) == [("telephone_unusual", "warning")]
    assert "0208920600" in unusual.problems[0].reason


def test_uncalculated_formula_cells():
    required = normalise_organization_row(row(uncalculated={"name"}, name=None))
    assert codes(required) == [("formula_without_value", "error")]
    key = normalise_organization_row(row(uncalculated={"urn"}, urn=None))
    assert codes(key) == [("formula_without_value", "error")]
    optional = normalise_organization_row(row(uncalculated={"town"}, town=None))
    assert codes(optional) == [("formula_without_value", "warning")]
    assert optional.record.town is None


def test_duplicate_urn_in_file_first_row_wins():
    validator = OrganizationRowValidator()
    first = validator.validate(row(2))
    again = validator.validate(row(7, name="Another name"))
    assert first.record is not None
    assert again.record is None
    assert codes(again) == [("duplicate_urn_in_file", "error")]
    assert "row 2" in again.problems[0].reason


def test_a_rejected_row_does_not_claim_its_urn():
    validator = OrganizationRowValidator()
    assert validator.validate(row(2, name=None)).skipped
    assert validator.validate(row(3)).record is not None


def test_same_name_in_one_authority_is_not_a_duplicate():
    validator = OrganizationRowValidator()
    a = validator.validate(row(2, urn="104612", name="Croxteth Community Primary School", postcode="L11 0BP"))
    b = validator.validate(row(3, urn="146768", name="Croxteth Community Primary School", postcode="L11 0BP"))
    assert a.record and b.record


def test_urnless_key_normalises_name_authority_and_postcode():
    a = organization_key("St. Mary's C of E Primary", "Barking & Dagenham", "ig11 7ar")
    b = organization_key("St Marys CE Primary", "barking and dagenham", "IG11 7AR")
    assert a == b
    assert organization_key("St Marys CE Primary", "Kent", "IG11 7AR") != a


def test_reference_and_dfe_headers_through_a_workbook():
    header = [
        "URN",
        "EstablishmentName",
        "LA (name)",
        "PhaseOfEducation (name)",
        "Gender (name)",
        "Street",
        "Locality",
        "Address3",
        "Town",
        "County (name)",
        "Postcode",
        "TelephoneNum",
        "OfstedRating (name)",
    ]
    values = [
        100000,
        "A School",
        "Kent",
        "Primary",
        "Girls",
        "1 High St",
        "Loc",
        "Addr3",
        "Town",
        "Kent",
        "CT1 1BD",
        1227123456,
        "Good",
    ]
    with open_spreadsheet(workbooks.xlsx({"S": [header, values]}), ORGANIZATION_COLUMNS) as sheet:
        rows = list(sheet.rows())
        header_problems = unknown_column_problems(sheet.header_row, sheet.ignored_headers)
    record = normalise_organization_row(rows[0]).record
    assert record.name == "A School" and record.local_authority == "Kent"
    assert (record.phase, record.gender) == ("primary", "girls")
    assert (record.address_line_1, record.address_line_2, record.county) == ("Loc", "Addr3", "Kent")
    assert record.telephone == "01227 123456"
    assert [(p.code, p.row, p.value) for p in header_problems] == [
        ("unknown_column", 1, "OfstedRating (name)")
    ]


@pytest.mark.parametrize(
    "header",
    ["OrganizationName", "organizationname", "Organization Name", "OrganisationName"],
)
def test_reference_name_spellings(header):
    data = workbooks.csv_bytes([[header, "Local Authority", "Telephone"], ["A", "Kent", "2072831147"]])
    with open_spreadsheet(data, ORGANIZATION_COLUMNS) as sheet:
        (only,) = sheet.rows()
    assert only.values["name"] == "A"
    assert only.values["telephone"] == "2072831147"
