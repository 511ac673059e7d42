"""Experience at month precision (pipeline.md §7.2)."""

from datetime import date
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.extraction.experience import (
    Span,
    experience_label,
    find_date_range,
    merge_spans,
    month_index,
    parse_date_range,
    total_experience,
)

TODAY = date(2025, 3, 15)


def months(text: str) -> int | None:
    span, _ = parse_date_range(text, TODAY)
    return span.months if span else None


@pytest.mark.parametrize(
    ("text", "start", "end"),
    [
        ("Sept 2019 - Jul 2021", (2019, 9), (2021, 7)),
        ("September 2019 – July 2021", (2019, 9), (2021, 7)),
        ("Sep. 2019 to Jul. 2021", (2019, 9), (2021, 7)),
        ("09/2019 - 07/2021", (2019, 9), (2021, 7)),
        ("09.2019 - 07.2021", (2019, 9), (2021, 7)),
        ("2019-09 to 2021-07", (2019, 9), (2021, 7)),
        ("2019/09 - 2021/07", (2019, 9), (2021, 7)),
        ("01/09/2019 - 31/07/2021", (2019, 9), (2021, 7)),
        ("Autumn 2019 - Summer 2021", (2019, 9), (2021, 6)),
        ("Spring 2018 - Winter 2018", (2018, 3), (2018, 12)),
        ("Sept - Dec 2019", (2019, 9), (2019, 12)),
        ("2017/11-2021/06", (2017, 11), (2021, 6)),
    ],
)
def test_accepted_forms(text, start, end):
    span, warning = parse_date_range(text, TODAY)
    assert warning is None
    assert span == Span(month_index(*start), month_index(*end))


@pytest.mark.parametrize("word", ["Present", "current", "Now", "to date", "Date", "ongoing", "Currently"])
def test_end_words_mean_the_processing_month(word):
    span, _ = parse_date_range(f"Jan 2024 - {word}", TODAY)
    assert span == Span(month_index(2024, 1), month_index(2025, 3))


def test_inclusive_month_count():
    assert months("Sep 2019 - Jul 2021") == 23


def test_year_only_bounds_start_july_end_june():
    span, _ = parse_date_range("2015 - 2018", TODAY)
    assert span == Span(month_index(2015, 7), month_index(2018, 6))
    assert months("2019 - Present") == month_index(2025, 3) - month_index(2019, 7) + 1


def test_lone_year_and_equal_years_are_six_months():
    assert months("2018") == 6
    assert months("2018 - 2018") == 6


def test_lone_month_year_is_one_month():
    assert months("March 2020") == 1


def test_future_end_is_clipped():
    span, _ = parse_date_range("Jan 2024 - Dec 2027", TODAY)
    assert span.end == month_index(2025, 3)


def test_end_before_start_and_overlong_are_dropped_with_warning():
    assert parse_date_range("2021 - 2019", TODAY) == (None, "date_range_dropped_end_before_start")
    assert parse_date_range("Jan 1960 - Jan 2020", TODAY) == (None, "date_range_dropped_too_long")
    result = total_experience(["2021 - 2019", "Jan 2020 - Dec 2020"], TODAY)
    assert result.months == 12
    assert result.warnings == ["date_range_dropped_end_before_start"]


def test_text_without_dates_is_ignored():
    assert parse_date_range("Present", TODAY) == (None, None)
    assert parse_date_range("no dates here", TODAY) == (None, None)


def test_overlaps_merge_and_years_round_to_one_decimal():
    result = total_experience(["Sep 2019 - Jul 2021", "Jan 2021 - Dec 2021", "Feb 2023 - Feb 2023"], TODAY)
    assert result.months == 28 + 1
    assert result.years == 2.4
    assert result.label == "2.4 Years"


def test_fresher():
    assert total_experience([], TODAY).label == "Fresher"
    assert experience_label(0) == "Fresher"
    assert experience_label(24) == "2 Years"


def test_find_date_range_locates_the_range_inside_a_line():
    line = "Class Teacher, Oak Primary School    Sept 2019 - Present"
    start, end = find_date_range(line)
    assert line[start:end] == "Sept 2019 - Present"
    assert find_date_range("Planned lessons for Year 6") is None
    assert find_date_range("Present") is None


spans = st.builds(
    lambda start, length: Span(start, start + length),
    st.integers(min_value=24000, max_value=24300),
    st.integers(min_value=0, max_value=60),
)


@given(st.lists(spans, max_size=12))
def test_union_never_exceeds_sum(items):
    merged = merge_spans(items)
    assert sum(s.months for s in merged) <= sum(s.months for s in items)


@given(st.lists(spans, max_size=12), st.randoms())
def test_union_is_order_independent(items, rnd):
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert merge_spans(items) == merge_spans(shuffled)


@given(st.lists(spans, min_size=1, max_size=12))
def test_union_covers_exactly_the_months_of_its_parts(items):
    covered = {m for s in items for m in range(s.start, s.end + 1)}
    merged = merge_spans(items)
    assert sum(s.months for s in merged) == len(covered)
    assert all(a.end + 1 < b.start for a, b in pairwise(merged))
