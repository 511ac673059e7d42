"""Reads of candidates and batches: list filters, batch statistics, stored files (api.md §1.9, §3).

Reusable by other apps:

- :func:`batch_stats` — counts, stage/quality counts, progress and status of any batches in one aggregate query;
  :func:`annotate_batch_stats` adds the same numbers to a Batch queryset (lists, ordering, ``status`` filter).
- :func:`given_name` / :func:`enhanced_cv_download_name` — the client-facing name and "<Given name> - CV.pdf".
- :func:`candidate_files` — every stored file a candidate owns (names and folder prefixes) for cleanup.
"""

import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django import forms
from django.db import NotSupportedError
from django.db.models import BooleanField, Case, CharField, Count, Expression, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from .models import (
    STAGES_BY_AI_STATUS,
    Availability,
    Batch,
    Candidate,
    Quality,
    Source,
    Stage,
)
from .search import normalise_query

# --- candidate list --------------------------------------------------------------------------------------------

LIST_FIELDS = (
    "id",
    "batch_id",
    "name",
    "name_without_surname",
    "email",
    "whatsapp_number",
    "location",
    "years_of_experience",
    "skills",
    "job_titles",
    "profile_photo",
    "source",
    "availability_status",
    "quality_status",
    "processing_stage",
    "created_at",
)
MAX_LIST_VALUES = 50  # repeatable filters (skills, job_titles)
MAX_TERM_LENGTH = 200


def candidate_list_queryset() -> QuerySet:
    """Only what a CandidateListItem shows: never extracted_text or the stored AI result."""
    return Candidate.objects.only(*LIST_FIELDS)


def candidate_detail_queryset() -> QuerySet:
    return Candidate.objects.defer("extracted_text", "search_text")


class JSONListElementContains(Expression):
    """True when some string element of a JSON list column contains ``needle`` (case-insensitive).

    PostgreSQL: ``jsonb_array_elements_text`` + ILIKE; SQLite: ``json_each`` + LIKE (ASCII case-insensitive, as
    Django's icontains there). A column that is not a list matches nothing.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, expression, needle: str):
        super().__init__(output_field=BooleanField())
        self.expression = F(expression) if isinstance(expression, str) else expression
        self.needle = needle

    def get_source_expressions(self):
        return [self.expression]

    def set_source_expressions(self, exprs):
        (self.expression,) = exprs

    def _pattern(self) -> str:
        escaped = self.needle.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        return f"%{escaped}%"

    def as_sql(self, compiler, connection):
        raise NotSupportedError("JSON list element search is implemented for PostgreSQL and SQLite only.")

    def as_postgresql(self, compiler, connection):
        # ``column`` is Django's compiled column reference, never user input; the needle is a parameter.
        column, params = compiler.compile(self.expression)
        sql = (
            "EXISTS (SELECT 1 FROM jsonb_array_elements_text("  # noqa: S608
            f"CASE WHEN jsonb_typeof({column}) = 'array' THEN {column} ELSE '[]'::jsonb END"
            ") AS element(value) WHERE element.value ILIKE %s)"
        )
        return sql, (*params, *params, self._pattern())

    def as_sqlite(self, compiler, connection):
        column, params = compiler.compile(self.expression)
        sql = (
            "EXISTS (SELECT 1 FROM json_each("  # noqa: S608
            f"CASE WHEN json_valid({column}) AND json_type({column}) = 'array' THEN {column} ELSE '[]' END"
            ") AS element WHERE element.type = 'text' AND element.value LIKE %s ESCAPE '\\')"
        )
        return sql, (*params, *params, *params, self._pattern())


class MultipleTextField(forms.Field):
    """A repeatable query parameter (``?skills=a&skills=b``): trimmed, blanks dropped, each ≤100 characters."""

    widget = forms.MultipleHiddenInput

    def __init__(self, *args, max_item_length: int = 100, max_items: int = MAX_LIST_VALUES, **kwargs):
        self.max_item_length, self.max_items = max_item_length, max_items
        super().__init__(*args, **kwargs)

    def to_python(self, value):
        if value in (None, ""):
            return []
        values = [value] if isinstance(value, str) else list(value)
        cleaned = [item.strip() for item in values if isinstance(item, str) and item.strip()]
        if len(cleaned) > self.max_items:
            raise forms.ValidationError(f"At most {self.max_items} values are allowed.")
        for item in cleaned:
            if len(item) > self.max_item_length:
                raise forms.ValidationError(
                    f"Each value must have at most {self.max_item_length} characters."
                )
        return cleaned


@extend_schema_field({"type": "array", "items": {"type": "string", "maxLength": 100}})
class ListElementFilter(filters.Filter):
    """Each value must match an element of the JSON list ``field_name`` (case-insensitive substring).

    On PostgreSQL the trigram-indexed search_text (which holds every list element, lower-cased) narrows the rows
    first; the element test then keeps only true element matches.
    """

    field_class = MultipleTextField

    def filter(self, qs, value):
        for needle in value or ():
            qs = qs.filter(
                JSONListElementContains(self.field_name, needle),
                search_text__icontains=normalise_query(needle),
            )
        return qs


class DateOrDateTimeField(forms.Field):
    """An ISO 8601 date (``2025-03-01``) or date-time (``2025-03-01T09:30:00+00:00``)."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip()
        try:
            parsed = parse_date(text) or parse_datetime(text)
        except ValueError:
            parsed = None
        if parsed is None:
            raise forms.ValidationError("Enter an ISO 8601 date (YYYY-MM-DD) or date-time.")
        return parsed


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _as_aware(moment: datetime) -> datetime:
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


@extend_schema_field(OpenApiTypes.STR)
class CreatedRangeFilter(filters.Filter):
    """``created_after``: on or after (a date: from its start in Europe/London); ``created_before``: before
    (a date: up to the end of that day, inclusive)."""

    field_class = DateOrDateTimeField

    def filter(self, qs, value):
        if value is None:
            return qs
        if self.lookup_expr == "gte":
            moment = _as_aware(value) if isinstance(value, datetime) else _start_of(value)
            return qs.filter(created_at__gte=moment)
        if isinstance(value, datetime):
            return qs.filter(created_at__lte=_as_aware(value))
        return qs.filter(created_at__lt=_start_of(value + timedelta(days=1)))


CANDIDATE_ORDERINGS = ("created_at", "name", "years_of_experience")


def _ordering_choices(fields: Iterable[str]) -> list[tuple[str, str]]:
    return [(f"{sign}{field}", f"{sign}{field}") for field in fields for sign in ("", "-")]


class CandidateFilter(filters.FilterSet):
    quality_status = filters.ChoiceFilter(choices=Quality.choices)
    availability_status = filters.ChoiceFilter(choices=Availability.choices)
    source = filters.ChoiceFilter(choices=Source.choices)
    processing_stage = filters.ChoiceFilter(choices=Stage.choices)
    ai_processing_status = filters.ChoiceFilter(
        choices=[(status, status) for status in STAGES_BY_AI_STATUS], method="filter_ai_status"
    )
    name = filters.CharFilter(lookup_expr="icontains", max_length=MAX_TERM_LENGTH)
    name_without_surname = filters.CharFilter(lookup_expr="icontains", max_length=MAX_TERM_LENGTH)
    email = filters.CharFilter(lookup_expr="icontains", max_length=MAX_TERM_LENGTH)
    whatsapp_number = filters.CharFilter(lookup_expr="icontains", max_length=MAX_TERM_LENGTH)
    location = filters.CharFilter(lookup_expr="icontains", max_length=MAX_TERM_LENGTH)
    years_min = filters.NumberFilter(
        field_name="years_of_experience", lookup_expr="gte", min_value=0, max_value=60
    )
    years_max = filters.NumberFilter(
        field_name="years_of_experience", lookup_expr="lte", min_value=0, max_value=60
    )
    skills = ListElementFilter(
        field_name="skills", label="Repeatable; each value must be contained in one skill (case-insensitive)."
    )
    job_titles = ListElementFilter(
        field_name="job_titles",
        label="Repeatable; each value must be contained in one job title (case-insensitive).",
    )
    search = filters.CharFilter(
        method="filter_search",
        max_length=MAX_TERM_LENGTH,
        label="Substring of name, given name, e-mail, phone, location, a skill or a job title.",
    )
    batch = filters.UUIDFilter(field_name="batch_id", label="Batch id.")
    created_after = CreatedRangeFilter(
        lookup_expr="gte", label="ISO 8601 date (from the start of that day, Europe/London) or date-time."
    )
    created_before = CreatedRangeFilter(
        lookup_expr="lte", label="ISO 8601 date (to the end of that day, Europe/London) or date-time."
    )
    ordering = filters.ChoiceFilter(
        choices=_ordering_choices(CANDIDATE_ORDERINGS), method="order", empty_label=None
    )

    class Meta:
        model = Candidate
        fields: list[str] = []

    def filter_ai_status(self, queryset, name, value: str):
        return queryset.filter(processing_stage__in=STAGES_BY_AI_STATUS[value])

    def filter_search(self, queryset, name, value: str):
        term = normalise_query(value)
        return queryset.filter(search_text__icontains=term) if term else queryset

    def order(self, queryset, name, value: str):
        return queryset  # applied in filter_queryset, after every filter, with stable tie-breakers

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*candidate_ordering(self.form.cleaned_data.get("ordering")))


def candidate_ordering(value: str | None) -> list:
    """Newest first by default; missing values sort last either way; ties broken by creation then id."""
    if not value:
        return ["-created_at", "-id"]
    field = value.lstrip("-")
    descending = value.startswith("-")
    primary = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
    return [primary, "-created_at", "-id"]


# --- client-facing names ------------------------------------------------------------------------------------------


def given_name(candidate: Candidate) -> str:
    """Given name as the enhanced CV shows it (pipeline.md §8): name_without_surname → data_extracted.name →
    first token of name → "Candidate"."""
    content = candidate.ai_enhanced_cv_content if isinstance(candidate.ai_enhanced_cv_content, dict) else {}
    extracted = content.get("data_extracted") if isinstance(content.get("data_extracted"), dict) else {}
    for value in (
        candidate.name_without_surname,
        extracted.get("name") if isinstance(extracted.get("name"), str) else "",
        (candidate.name or "").split()[0] if (candidate.name or "").split() else "",
    ):
        cleaned = " ".join((value or "").replace("/", " ").replace("\\", " ").split())
        if cleaned:
            return cleaned[:100]
    return "Candidate"


def enhanced_cv_download_name(candidate: Candidate) -> str:
    return f"{given_name(candidate)} - CV.pdf"


# --- stored files -------------------------------------------------------------------------------------------------


def candidate_prefixes(candidate_id) -> list[str]:
    """Folders holding every version of a candidate's files (old PDFs, replaced photos, the original)."""
    return [
        f"candidates/original/{candidate_id}/",
        f"candidates/enhanced/{candidate_id}/",
        f"candidates/photos/{candidate_id}/",
    ]


def candidate_files(candidate: Candidate) -> tuple[list[str], list[str]]:
    """(stored file names, folder prefixes) a candidate owns; names are what the message counts."""
    names = [
        name for name in (candidate.original_file, candidate.enhanced_cv, candidate.profile_photo) if name
    ]
    return names, candidate_prefixes(candidate.id)


# --- batch statistics ---------------------------------------------------------------------------------------------

BATCH_STATUSES = ("queued", "processing", "completed", "completed_with_errors")
BATCH_ORDERINGS = ("created_at", "total_count", "processed_count", "failed_count")
_STAGE_KEYS = {  # stage_counts key → stage (done is reported as "completed")
    "queued": Stage.QUEUED,
    "extracting": Stage.EXTRACTING,
    "analysing": Stage.ANALYSING,
    "rendering": Stage.RENDERING,
    "completed": Stage.DONE,
    "failed": Stage.FAILED,
}
_QUALITY_KEYS = {
    "pending": Quality.PENDING,
    "passed": Quality.PASSED,
    "failed": Quality.FAILED,
    "manual": Quality.MANUAL,
}


def _stat_aggregates(prefix: str) -> dict:
    """Conditional counts over a batch's candidates; ``prefix`` is the path to Candidate ("candidates__" or "")."""
    pk = f"{prefix}id" if prefix else "id"
    aggregates = {"stat_total": Count(pk)}
    for key, stage in _STAGE_KEYS.items():
        aggregates[f"stat_stage_{key}"] = Count(pk, filter=Q(**{f"{prefix}processing_stage": stage}))
    for key, quality in _QUALITY_KEYS.items():
        aggregates[f"stat_quality_{key}"] = Count(pk, filter=Q(**{f"{prefix}quality_status": quality}))
    return aggregates


def annotate_batch_stats(queryset: QuerySet | None = None) -> QuerySet:
    """Batch queryset with the statistics as annotations (``stat_*``, ``stat_status``) from one grouped join.

    Use :func:`stats_of` on each row; the annotations also serve ordering (``stat_total`` …) and filtering
    (``stat_status``, rules of api.md §1.9).
    """
    queryset = Batch.objects.all() if queryset is None else queryset
    unfinished = F("stat_stage_queued") + F("stat_stage_extracting") + F("stat_stage_analysing")
    return (
        queryset.annotate(**_stat_aggregates("candidates__"))
        .annotate(
            stat_unfinished=unfinished + F("stat_stage_rendering"),
            stat_finished=F("stat_stage_completed") + F("stat_stage_failed"),
        )
        .annotate(
            stat_status=Case(
                When(Q(stat_unfinished=0, stat_stage_failed=0), then=Value("completed")),
                When(Q(stat_unfinished=0), then=Value("completed_with_errors")),
                When(Q(stat_unfinished=F("stat_stage_queued"), stat_finished=0), then=Value("queued")),
                default=Value("processing"),
                output_field=CharField(),
            )
        )
    )


@dataclass(frozen=True)
class BatchStats:
    total: int
    stage_counts: dict
    quality_counts: dict

    @property
    def processed(self) -> int:
        return self.stage_counts["completed"]

    @property
    def failed(self) -> int:
        return self.stage_counts["failed"]

    @property
    def unfinished(self) -> int:
        return sum(self.stage_counts[key] for key in ("queued", "extracting", "analysing", "rendering"))

    @property
    def progress_percentage(self) -> int:
        if not self.total:
            return 100
        return math.floor((self.processed + self.failed) * 100 / self.total)

    @property
    def status(self) -> str:
        if self.unfinished == 0:
            return "completed_with_errors" if self.failed else "completed"
        if self.unfinished == self.stage_counts["queued"] and self.processed + self.failed == 0:
            return "queued"
        return "processing"

    def as_dict(self, uploaded_count: int | None = None) -> dict:
        """The Batch fields of api.md §1.9 derived from the candidates (``deleted_count`` needs uploaded)."""
        data = {
            "total_count": self.total,
            "active_count": self.total,
            "processed_count": self.processed,
            "failed_count": self.failed,
            "stage_counts": dict(self.stage_counts),
            "quality_counts": dict(self.quality_counts),
            "progress_percentage": self.progress_percentage,
            "status": self.status,
        }
        if uploaded_count is not None:
            data["deleted_count"] = max(uploaded_count - self.total, 0)
        return data


EMPTY_STATS = BatchStats(0, dict.fromkeys(_STAGE_KEYS, 0), dict.fromkeys(_QUALITY_KEYS, 0))


def _stats_from(row, get) -> BatchStats:
    return BatchStats(
        total=get(row, "stat_total") or 0,
        stage_counts={key: get(row, f"stat_stage_{key}") or 0 for key in _STAGE_KEYS},
        quality_counts={key: get(row, f"stat_quality_{key}") or 0 for key in _QUALITY_KEYS},
    )


def stats_of(batch: Batch) -> BatchStats:
    """Statistics of a Batch fetched through :func:`annotate_batch_stats` (no query)."""
    return _stats_from(batch, getattr)


def batch_stats(batches: Iterable | QuerySet) -> dict:
    """``{batch_id: BatchStats}`` for batch ids (or Batch objects, or a Batch queryset) in ONE aggregate query.

    Batches without candidates get zero counts (status ``completed``, progress 100).
    """
    if isinstance(batches, QuerySet):
        ids_filter = {"batch_id__in": batches.values("pk")}
        wanted = None
    else:
        wanted = [getattr(item, "pk", item) for item in batches]
        if not wanted:
            return {}
        ids_filter = {"batch_id__in": wanted}
    rows = (
        Candidate.objects.filter(**ids_filter).order_by().values("batch_id").annotate(**_stat_aggregates(""))
    )
    found = {row["batch_id"]: _stats_from(row, dict.get) for row in rows}
    if wanted is not None:
        return {batch_id: found.get(_as_uuid(batch_id), EMPTY_STATS) for batch_id in wanted}
    return found


def _as_uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


class BatchFilter(filters.FilterSet):
    status = filters.ChoiceFilter(
        choices=[(status, status) for status in BATCH_STATUSES], field_name="stat_status"
    )
    ordering = filters.ChoiceFilter(
        choices=_ordering_choices(BATCH_ORDERINGS), method="order", empty_label=None
    )

    class Meta:
        model = Batch
        fields: list[str] = []

    def order(self, queryset, name, value: str):
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        return queryset.order_by(*batch_ordering(self.form.cleaned_data.get("ordering")))


_BATCH_ORDER_FIELDS = {
    "created_at": "created_at",
    "total_count": "stat_total",
    "processed_count": "stat_stage_completed",
    "failed_count": "stat_stage_failed",
}


def batch_ordering(value: str | None) -> list[str]:
    if not value:
        return ["-created_at", "-id"]
    field = _BATCH_ORDER_FIELDS[value.lstrip("-")]
    sign = "-" if value.startswith("-") else ""
    return [f"{sign}{field}", "-created_at", "-id"]


def batch_queryset() -> QuerySet:
    """Batches with their statistics, for the list and detail endpoints (one query per page or object)."""
    return annotate_batch_stats(Batch.objects.all())
