"""The school-contacts workbook: columns, row normalisation, school matching and in-file duplicates
(imports-and-geo.md §3–§4).

plan_contacts() decides every row of a file; the Django side then writes the accepted ones in chunks:

    outcomes = plan_contacts(sheet.rows(), index, known_links)
    for outcome in outcomes: outcome.status == "linked" → upsert (outcome.record, outcome.organization_id)
"""

import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass, field

from core.imports.problems import Problem, error, too_long, uncalculated_formula, warning
from core.imports.spreadsheet import Column, SheetRow
from core.matching.matcher import MatchQuery, MatchResult, SchoolIndex, match_contacts

CONTACT_COLUMNS: tuple[Column, ...] = (
    Column("local_authority", ("LocalAuthority",), required=True),
    Column("organization_name", ("OrganizationName", "OrganisationName"), required=True),
    Column("work_email", ("WorkEmail", "Email"), required=True),
    Column("contact_person", ("ContactPersonName", "ContactPerson")),
    Column("job_title", ("JobTitle",)),
    Column("urn", ("URN",)),
)

MAX_LENGTHS = {
    "local_authority": 255,
    "organization_name": 255,
    "work_email": 254,
    "contact_person": 255,
    "job_title": 255,
}
_REQUIRED = {
    "organization_name": "missing_organization_name",
    "local_authority": "missing_local_authority",
    "work_email": "missing_email",
}
# One @, a dotted domain of letter/digit labels, no spaces.
_EMAIL = re.compile(r"[^@\s]+@(?:[^\W_](?:[\w-]*[^\W_])?\.)+[^\W\d_][^\W_]*", re.UNICODE)


@dataclass(frozen=True, slots=True)
class ContactRecord:
    local_authority: str
    organization_name: str
    work_email: str  # lower-case
    contact_person: str  # the job title when no person is named
    job_title: str | None
    is_role_mailbox: bool  # person == job title ("Senco"): greet "Dear Sir/Madam"
    urn: str | None

    @property
    def query(self) -> MatchQuery:
        return MatchQuery(self.local_authority, self.organization_name, self.work_email, self.urn)


@dataclass
class ContactRow:
    row: int
    record: ContactRecord | None  # None: the row has an error and is skipped
    problems: list[Problem] = field(default_factory=list)


def normalise_email(text: str | None) -> str | None:
    """Trimmed, lower-cased address, or None when it is not one."""
    email = (text or "").strip().lower()
    return email if _EMAIL.fullmatch(email) else None


def normalise_contact_row(sheet_row: SheetRow) -> ContactRow:
    number = sheet_row.number
    values = dict(sheet_row.values)
    problems: list[Problem] = []
    for name in sorted(sheet_row.uncalculated):
        problems.append(uncalculated_formula(number, name, "error" if name in _REQUIRED else "warning"))
        values[name] = None
    for name, code in _REQUIRED.items():
        if not values.get(name) and name not in sheet_row.uncalculated:
            problems.append(error(number, code, f"{name} is required.", name))

    email = values.get("work_email")
    if email is not None:
        email = normalise_email(email)
        if email is None:
            problems.append(
                error(
                    number, "invalid_email", "Not a valid e-mail address.", "work_email", values["work_email"]
                )
            )

    person, title = values.get("contact_person"), values.get("job_title")
    if person is None and title is not None:
        person = title
        problems.append(
            warning(
                number,
                "missing_contact_person",
                "No contact person; the job title is used instead.",
                "contact_person",
            )
        )
    elif person is None:
        problems.append(
            error(
                number,
                "missing_contact_person",
                "Neither a contact person nor a job title.",
                "contact_person",
            )
        )

    for name, limit in MAX_LENGTHS.items():
        value = values.get(name)
        if value is not None and len(value) > limit:
            problems.append(too_long(number, name, value, limit))

    urn = values.get("urn")
    if urn is not None and not (urn.isascii() and urn.isdigit()):
        problems.append(
            warning(number, "invalid_urn", "The URN must contain digits only; ignored.", "urn", urn)
        )
        urn = None

    if any(p.severity == "error" for p in problems):
        return ContactRow(number, None, problems)
    record = ContactRecord(
        local_authority=values["local_authority"],
        organization_name=values["organization_name"],
        work_email=email,
        contact_person=person,
        job_title=title,
        is_role_mailbox=title is not None and person.casefold() == title.casefold(),
        urn=urn,
    )
    return ContactRow(number, record, problems)


@dataclass
class ContactOutcome:
    """What happens to one row. status: "linked" (to be written), "invalid", "unmatched", "ambiguous",
    "unknown_local_authority" or "duplicate" (the address already came earlier in the file)."""

    row: int
    original: dict[str, str | None]
    record: ContactRecord | None
    match: MatchResult | None
    status: str
    problems: list[Problem] = field(default_factory=list)

    @property
    def organization_id(self) -> Hashable | None:
        return self.match.organization_id if self.status == "linked" else None

    @property
    def rejected(self) -> bool:
        return self.status != "linked"

    @property
    def decisive_problem(self) -> Problem | None:
        """The problem that explains a rejected row (for the rejects CSV `code` and `reason`)."""
        if not self.rejected:
            return None
        return next((p for p in self.problems if p.severity == "error"), None) or next(
            (p for p in self.problems if p.code == "duplicate_email_in_file"), None
        )


def plan_contacts(
    rows: Iterable[SheetRow], index: SchoolIndex, known_links: Mapping[str, Hashable] | None = None
) -> list[ContactOutcome]:
    """Normalise, match (two passes over the file) and de-duplicate every row.

    known_links: e-mail → organisation id of contacts already stored (evidence (b)); pass those for the
    addresses in this file.
    """
    sheet_rows = list(rows)
    normalised = [normalise_contact_row(r) for r in sheet_rows]
    valid = [n for n in normalised if n.record]
    matches = iter(match_contacts(index, [n.record.query for n in valid], known_links))

    outcomes: list[ContactOutcome] = []
    claimed: dict[str, tuple[int, Hashable]] = {}  # e-mail → (first row, organisation) of accepted rows
    for sheet_row, result in zip(sheet_rows, normalised, strict=True):
        problems = result.problems
        if result.record is None:
            outcomes.append(ContactOutcome(result.row, sheet_row.original, None, None, "invalid", problems))
            continue
        record, match = result.record, next(matches)
        if record.urn and not index.has_urn(record.urn):
            problems.append(
                warning(
                    result.row, "unknown_urn", "No school has this URN; matched by name.", "urn", record.urn
                )
            )
        status = match.status
        if record.work_email in claimed:
            status = "duplicate"
            problems.append(
                _duplicate_problem(result.row, record.work_email, claimed[record.work_email], index)
            )
        elif status == "linked":
            claimed[record.work_email] = (result.row, match.organization_id)
        else:
            problems.append(_match_problem(result.row, record, match))
        outcomes.append(ContactOutcome(result.row, sheet_row.original, record, match, status, problems))
    return outcomes


def _duplicate_problem(row: int, email: str, first: tuple[int, Hashable], index: SchoolIndex) -> Problem:
    first_row, organization_id = first
    return warning(
        row,
        "duplicate_email_in_file",
        f"The address already appears in row {first_row} and stays with {index.describe(organization_id)}; "
        "this row was skipped.",
        "work_email",
        email,
    )


def _match_problem(row: int, record: ContactRecord, match: MatchResult) -> Problem:
    reason = match.reason
    if match.suggestions:
        reason += f" Did you mean: {'; '.join(match.suggestions)}?"
    if match.status == "unknown_local_authority":
        return error(row, match.status, reason, "local_authority", record.local_authority)
    return error(row, match.status, reason, "organization_name", record.organization_name)
