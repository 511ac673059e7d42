"""The schools ("organisations") workbook: columns, row normalisation and in-file checks
(imports-and-geo.md §2).

The database upsert is the Django side's job; this module turns each sheet row into clean fields plus
problems, and remembers URNs already seen in the file.
"""

from dataclasses import dataclass, field

from core.geo.errors import InvalidPostcode
from core.geo.postcodes import normalise_postcode
from core.imports.problems import Problem, error, too_long, uncalculated_formula, warning
from core.imports.spreadsheet import Column, SheetRow
from core.imports.telephone import Telephone, normalise_telephone
from core.matching.names import normalise_local_authority, normalise_name

ORGANIZATION_COLUMNS: tuple[Column, ...] = (
    Column("urn", ("URN",)),
    Column("local_authority", ("LocalAuthority", "LA (name)"), required=True),
    Column("name", ("OrganizationName", "OrganisationName", "EstablishmentName"), required=True),
    Column("phase", ("Phase", "PhaseOfEducation (name)")),
    Column("gender", ("Gender", "Gender (name)")),
    Column("street", ("Street",)),
    Column("address_line_1", ("AddressLine1", "Locality")),
    Column("address_line_2", ("AddressLine2", "Address3")),
    Column("town", ("Town",)),
    Column("county", ("County", "County (name)")),
    Column("postcode", ("Postcode",)),
    Column("telephone", ("TelephoneNumber", "Telephone", "TelephoneNum")),
)

MAX_LENGTHS = {
    "urn": 20,
    "name": 255,
    "local_authority": 255,
    "street": 255,
    "address_line_1": 255,
    "address_line_2": 255,
    "town": 100,
    "county": 100,
    "postcode": 10,
}

PHASES = {
    "16 plus": "16_plus",
    "16plus": "16_plus",
    "16+": "16_plus",
    "all through": "all_through",
    "middle deemed primary": "middle_deemed_primary",
    "middle deemed secondary": "middle_deemed_secondary",
    "nursery": "nursery",
    "primary": "primary",
    "secondary": "secondary",
    "not applicable": "not_applicable",
    "n/a": "not_applicable",
}
GENDERS = {
    "boys": "boys",
    "boy": "boys",
    "girls": "girls",
    "girl": "girls",
    "mixed": "mixed",
    "not applicable": "not_applicable",
}
PHASE_CODES = tuple(dict.fromkeys(PHASES.values()))
GENDER_CODES = tuple(dict.fromkeys(GENDERS.values()))
DEFAULT_PHASE = "not_applicable"
DEFAULT_GENDER = "mixed"
_REQUIRED = {"name": "missing_name", "local_authority": "missing_local_authority"}
# Without its URN a row would be filed under the URN-less key and duplicate the school on the next import.
_KEY_FIELDS = {*_REQUIRED, "urn"}


@dataclass(frozen=True, slots=True)
class OrganizationRecord:
    urn: str | None
    name: str
    local_authority: str
    phase: str
    gender: str
    street: str | None
    address_line_1: str | None
    address_line_2: str | None
    town: str | None
    county: str | None
    postcode: str | None  # canonical ("SE3 9GJ") when valid, else as given
    postcode_valid: bool  # False: keep the text but do not geocode it
    telephone: str | None


@dataclass
class OrganizationRow:
    row: int
    record: OrganizationRecord | None  # None: the row has an error and is skipped
    problems: list[Problem] = field(default_factory=list)

    @property
    def skipped(self) -> bool:
        return self.record is None


def _choice_key(text: str) -> str:
    return " ".join(text.casefold().replace("_", " ").replace("-", " ").split())


def normalise_phase(text: str | None) -> tuple[str, bool]:
    """(phase code, recognised); blank → not_applicable, unknown → not_applicable and not recognised."""
    if text is None:
        return DEFAULT_PHASE, True
    code = PHASES.get(_choice_key(text))
    return (code, True) if code else (DEFAULT_PHASE, False)


def normalise_gender(text: str | None) -> tuple[str, bool]:
    """(gender code, recognised); blank → mixed (as the reference did), unknown → mixed and not recognised."""
    if text is None:
        return DEFAULT_GENDER, True
    code = GENDERS.get(_choice_key(text))
    return (code, True) if code else (DEFAULT_GENDER, False)


def organization_key(name: str, local_authority: str, postcode: str | None) -> tuple[str, str, str]:
    """Identity of an URN-less organisation: normalised name, local authority and postcode."""
    compact_postcode = "".join((postcode or "").split()).upper()
    return normalise_name(name), normalise_local_authority(local_authority), compact_postcode


def normalise_organization_row(sheet_row: SheetRow) -> OrganizationRow:
    """Clean one row of the schools workbook; errors make the record None, warnings keep it."""
    number = sheet_row.number
    values = dict(sheet_row.values)
    problems: list[Problem] = []

    for name in sorted(sheet_row.uncalculated):
        problems.append(uncalculated_formula(number, name, "error" if name in _KEY_FIELDS else "warning"))
        values[name] = None
    for name, code in _REQUIRED.items():
        if not values.get(name) and name not in sheet_row.uncalculated:
            problems.append(error(number, code, f"{name} is required.", name))

    urn = values.get("urn")
    if urn is not None and not (urn.isascii() and urn.isdigit()):
        problems.append(error(number, "invalid_urn", "The URN must contain digits only.", "urn", urn))

    postcode, postcode_valid = values.get("postcode"), False
    if postcode is None:
        problems.append(
            warning(number, "missing_postcode", "No postcode: the school cannot be placed precisely.")
        )
    else:
        try:
            postcode, postcode_valid = normalise_postcode(postcode), True
        except InvalidPostcode:
            problems.append(
                warning(
                    number,
                    "invalid_postcode",
                    "Not a valid UK postcode; stored as given.",
                    "postcode",
                    postcode,
                )
            )

    for name, limit in MAX_LENGTHS.items():
        value = postcode if name == "postcode" else values.get(name)
        if value is not None and len(value) > limit:
            problems.append(too_long(number, name, value, limit))

    phase, known = normalise_phase(values.get("phase"))
    if not known:
        problems.append(
            warning(
                number, "unknown_phase", "Unknown phase; stored as not applicable.", "phase", values["phase"]
            )
        )
    gender, known = normalise_gender(values.get("gender"))
    if not known:
        problems.append(
            warning(number, "unknown_gender", "Unknown gender; stored as mixed.", "gender", values["gender"])
        )

    telephone = normalise_telephone(values.get("telephone"))
    if telephone.problem:
        problems.append(_telephone_problem(number, telephone, values.get("telephone")))

    if any(p.severity == "error" for p in problems):
        return OrganizationRow(number, None, problems)
    record = OrganizationRecord(
        urn=urn,
        name=values["name"],
        local_authority=values["local_authority"],
        phase=phase,
        gender=gender,
        street=values.get("street"),
        address_line_1=values.get("address_line_1"),
        address_line_2=values.get("address_line_2"),
        town=values.get("town"),
        county=values.get("county"),
        postcode=postcode,
        postcode_valid=postcode_valid,
        telephone=telephone.value,
    )
    return OrganizationRow(number, record, problems)


def _telephone_problem(number: int, telephone: Telephone, given: str | None) -> Problem:
    if telephone.problem == "telephone_precision_lost":
        reason = "The number was saved in scientific notation, so its digits are lost; not stored."
    elif telephone.value:
        reason = f"Not a valid UK number; stored as {telephone.value}."
    else:
        reason = "Not a usable telephone number; not stored."
    return warning(number, telephone.problem, reason, "telephone", given)


class OrganizationRowValidator:
    """Normalises rows in file order and rejects a URN already taken by an earlier accepted row."""

    def __init__(self) -> None:
        self._urn_rows: dict[str, int] = {}

    def validate(self, sheet_row: SheetRow) -> OrganizationRow:
        result = normalise_organization_row(sheet_row)
        urn = result.record.urn if result.record else None
        if urn is None:
            return result
        first_row = self._urn_rows.setdefault(urn, result.row)
        if first_row != result.row:
            result.problems.append(
                error(
                    result.row,
                    "duplicate_urn_in_file",
                    f"URN {urn} already appears in row {first_row}; the first row wins.",
                    "urn",
                    urn,
                )
            )
            result.record = None
        return result
