"""Employment date ranges and total experience at month precision (pipeline.md §7.2).

A month is an integer index ``year * 12 + (month - 1)`` so intervals are plain integer ranges.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}  # fmt: skip
SEASONS = {"spring": 3, "summer": 6, "autumn": 9, "fall": 9, "winter": 12}
MAX_MONTHS = 50 * 12

_MONTH_WORD = "|".join(sorted(MONTHS, key=len, reverse=True))
_SEASON_WORD = "|".join(SEASONS)
_YEAR = r"(?:19[5-9]\d|20\d\d)"
# Alternatives are tried left to right at each position, so the most specific forms come first.
_TOKEN = re.compile(
    rf"""
    (?P<dmy>\b\d{{1,2}}[/.]\d{{1,2}}[/.](?P<dmy_y>{_YEAR})(?!\d))
    | (?P<mname>\b(?:{_MONTH_WORD})\b)\.?(?:,?\s*(?P<mname_y>{_YEAR})(?!\d))?
    | (?P<season>\b(?:{_SEASON_WORD})\b)(?:\s+term)?,?\s*(?P<season_y>{_YEAR})(?!\d)
    | (?P<my>\b(?P<my_m>\d{{1,2}})\s?[/.-]\s?(?P<my_y>{_YEAR})(?!\d))
    | (?P<ym>\b(?P<ym_y>{_YEAR})[/.-](?P<ym_m>\d{{1,2}})\b)
    | (?P<now>\b(?:present|current(?:ly)?|now|(?:to|till|until)\s+date|date|ongoing|today)\b)
    | (?P<year>\b{_YEAR}(?!\d))
    """,
    # a year may touch the next word: PDF columns sometimes lose the space ("2021Learning")
    re.IGNORECASE | re.VERBOSE,
)
_DMY_PARTS = re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})")
_BETWEEN = re.compile(r"^\s*(?:-|to|until|till|through|\u2013|\u2014|/|–|—|~|>|&)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class DatePoint:
    year: int
    month: int | None  # None: year only
    is_now: bool = False


@dataclass(frozen=True)
class Span:
    start: int  # month index, inclusive
    end: int  # month index, inclusive

    @property
    def months(self) -> int:
        return self.end - self.start + 1


@dataclass
class Experience:
    months: int
    spans: list[Span] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def years(self) -> float:
        return years_from_months(self.months)

    @property
    def label(self) -> str:
        return experience_label(self.months)


def month_index(year: int, month: int) -> int:
    return year * 12 + month - 1


def month_text(index: int) -> str:
    """``YYYY-MM`` of a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def years_from_months(months: int) -> float:
    return round(months / 12, 1)


def experience_label(months: int) -> str:
    """ "Fresher" for no experience, else "<years> Years" (years to one decimal place)."""
    return "Fresher" if months <= 0 else f"{years_from_months(months):g} Years"


def _points(text: str) -> list[tuple[DatePoint, tuple[int, int]]]:
    """Date points found in ``text`` with their character spans, in reading order."""
    points: list[tuple[DatePoint, tuple[int, int]]] = []
    pending: tuple[int, int, int] | None = None  # "Sept - Dec 2019": (month, start, end) waiting for a year
    for m in _TOKEN.finditer(text):
        point: DatePoint | None = None
        if m.group("dmy"):
            _day, month, year = (int(x) for x in _DMY_PARTS.match(m.group("dmy")).groups())
            point = DatePoint(year, month) if 1 <= month <= 12 else None
        elif m.group("mname"):
            month = MONTHS[m.group("mname").lower()]
            if m.group("mname_y"):
                point = DatePoint(int(m.group("mname_y")), month)
            else:
                pending = (month, m.start(), m.end())
                continue
        elif m.group("season"):
            point = DatePoint(int(m.group("season_y")), SEASONS[m.group("season").lower()])
        elif m.group("my"):
            month = int(m.group("my_m"))
            point = DatePoint(int(m.group("my_y")), month) if 1 <= month <= 12 else None
        elif m.group("ym"):
            month = int(m.group("ym_m"))
            point = DatePoint(int(m.group("ym_y")), month) if 1 <= month <= 12 else None
        elif m.group("now"):
            point = DatePoint(0, None, is_now=True)
        elif m.group("year"):
            point = DatePoint(int(m.group("year")), None)
        if point is None:
            continue
        if pending and not point.is_now and point.month and _BETWEEN.match(text[pending[2] : m.start()]):
            points.append((DatePoint(point.year, pending[0]), (pending[1], pending[2])))
        pending = None
        points.append((point, m.span()))
    return points


def find_date_range(line: str) -> tuple[int, int] | None:
    """Character span of the first date range (or single dated point) in ``line``, or None.

    A range is two date points separated only by a dash, "to", "until" and the like. A lone "present" is not a
    date; at least one point must carry a year.
    """
    points = _points(line)
    for i, (point, (start, end)) in enumerate(points):
        if point.is_now:
            continue
        if i + 1 < len(points):
            _next, (n_start, n_end) = points[i + 1]
            if _BETWEEN.match(line[end:n_start]):
                return start, n_end
        return start, end
    return None


def parse_date_range(text: str, today: date) -> tuple[Span | None, str | None]:
    """Interpret one ``date_range`` string as a month span; returns (span, warning).

    Year-only bounds: start → July, end → June; a lone year or equal years → six months (January–June); a lone
    month-year → one month; end words mean ``today``'s month; future ends are clipped to it.
    """
    now = month_index(today.year, today.month)
    points = [p for p, _ in _points(text)]
    while points and points[0].is_now:
        points.pop(0)
    if not points:
        return None, None
    first = points[0]
    second = points[1] if len(points) > 1 else None
    if second is None:
        if first.month is None:
            start, end = month_index(first.year, 1), month_index(first.year, 6)
        else:
            start = end = month_index(first.year, first.month)
    elif second.is_now:
        start = month_index(first.year, first.month or 7)
        end = now
    elif first.month is None and second.month is None and first.year == second.year:
        start, end = month_index(first.year, 1), month_index(first.year, 6)
    else:
        start = month_index(first.year, first.month or 7)
        end = month_index(second.year, second.month or 6)
    end = min(end, now)
    if end < start:
        return None, "date_range_dropped_end_before_start"
    if end - start + 1 > MAX_MONTHS:
        return None, "date_range_dropped_too_long"
    return Span(start, end), None


def merge_spans(spans: Iterable[Span]) -> list[Span]:
    """Union of spans: overlapping or adjacent spans are merged; result sorted by start."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1].end + 1:
            last = merged[-1]
            merged[-1] = Span(last.start, max(last.end, span.end))
        else:
            merged.append(span)
    return merged


def total_experience(date_ranges: Iterable[str], today: date) -> Experience:
    """Months covered by the union of all parseable date ranges, with a warning per dropped range."""
    spans: list[Span] = []
    warnings: list[str] = []
    for text in date_ranges:
        span, warning = parse_date_range(text or "", today)
        if span:
            spans.append(span)
        elif warning:
            warnings.append(warning)
    merged = merge_spans(spans)
    return Experience(sum(s.months for s in merged), merged, warnings)
