"""Where the header and the data are in a grid of cells (standard library only: the subprocess uses it)."""

from collections.abc import Callable, Container, Iterable, Iterator, Sequence
from itertools import islice

from core.imports.cells import header_key, normalise_cell

HEADER_SEARCH_ROWS = 10

# (label shown to the operator, accepted header keys) for each required column.
RequiredHeaders = Sequence[tuple[str, Sequence[str]]]


def normalised_rows(
    raw_rows: Iterable[Sequence[object]], normalise: Callable[[object], str | None] = normalise_cell
) -> Iterator[list[str | None]]:
    for raw in raw_rows:
        yield [normalise(value) for value in raw]


def find_header(rows: Iterator[list[str | None]]) -> tuple[int, list[str | None]] | None:
    """The first non-empty row within the first 10, as (1-based row number, cells); None if there is none.

    Consumes the rows up to and including the header row, so the iterator then continues with the data.
    """
    for number, cells in enumerate(islice(rows, HEADER_SEARCH_ROWS), start=1):
        if any(cell is not None for cell in cells):
            return number, cells
    return None


def missing_headers(header_cells: Sequence[str | None], required: RequiredHeaders) -> list[str]:
    """Labels of the required columns that no header cell matches."""
    found = {header_key(cell) for cell in header_cells if cell}
    return [label for label, keys in required if found.isdisjoint(keys)]


def data_rows(
    rows: Iterable[list[str | None]], first_number: int, width: int, keep: Container[int] = ()
) -> Iterator[tuple[int, list[str | None]]]:
    """Rows cut to the header width, numbered from first_number; entirely empty rows are skipped unless their
    number is in `keep` (rows whose only content is a formula without a value)."""
    for number, cells in enumerate(rows, start=first_number):
        cells = cells[:width]
        if number in keep or any(cell is not None for cell in cells):
            yield number, cells
