"""Radius search over organisations and their contacts (imports-and-geo.md §7; api.md C7, C8, O1).

Everything happens in SQL, on PostgreSQL and SQLite alike:

1. a bounding-box prefilter ``latitude BETWEEN … AND longitude BETWEEN …`` served by the partial B-tree index
   ``org_geo_box`` on (latitude, longitude);
2. the exact haversine distance (R = 6371.0088 km) computed with database functions on the boxed rows only;
3. the radius filter (inclusive), then ``ORDER BY distance, name, id`` and LIMIT/OFFSET.

Nothing loads all organisations or contacts into memory. Reusable selectors:

- :func:`organizations_within` / :func:`contacts_within` — any Organization / Contact queryset narrowed to a
  circle and annotated with ``distance_km`` (unordered);
- :func:`nearby_organizations` / :func:`nearby_contacts` — the C7/C8 searches with their filters, ordered.
"""

import math
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import (
    BooleanField,
    Count,
    Exists,
    Expression,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Value,
    Window,
)
from django.db.models.functions import ASin, Cast, Cos, Least, Power, Radians, Sin, Sqrt

from core.geo.distance import EARTH_RADIUS_KM, bounding_box, km_to_miles
from outreach.models import OutreachMessage, Suppression

from .models import Contact, Organization

# Rounding of the box edges to the column's 6 decimals must never cut the circle: widen by one unit.
_BOX_MARGIN_DEGREES = 1e-6
ALREADY_CONTACTED_STATUSES = (OutreachMessage.Status.SENT, OutreachMessage.Status.SENDING)


@dataclass(frozen=True)
class Circle:
    """A search area: centre in WGS84 degrees and an inclusive radius in km (validated by the caller)."""

    latitude: float
    longitude: float
    radius_km: float


def _float(value: float) -> Value:
    return Value(float(value), output_field=FloatField())


def haversine_expression(latitude: float, longitude: float, prefix: str = "") -> Cast:
    """Great-circle distance in km from a fixed point to the row's ``<prefix>latitude/longitude`` (SQL)."""
    lat = Radians(Cast(f"{prefix}latitude", FloatField()))
    lng = Radians(Cast(f"{prefix}longitude", FloatField()))
    phi, lam = math.radians(latitude), math.radians(longitude)
    half_dphi = Sin((lat - _float(phi)) / _float(2.0))
    half_dlam = Sin((lng - _float(lam)) / _float(2.0))
    a = Power(half_dphi, 2) + _float(math.cos(phi)) * Cos(lat) * Power(half_dlam, 2)
    # Least() guards asin against a rounding overshoot above 1 (antipodal points)
    return Cast(
        _float(2 * EARTH_RADIUS_KM) * ASin(Least(Sqrt(a), _float(1.0))),
        FloatField(),
    )


def _box_filter(circle: Circle, prefix: str = "") -> Q:
    box = bounding_box(circle.latitude, circle.longitude, circle.radius_km)
    return Q(
        **{
            f"{prefix}latitude__gte": _decimal(box.min_lat - _BOX_MARGIN_DEGREES),
            f"{prefix}latitude__lte": _decimal(box.max_lat + _BOX_MARGIN_DEGREES),
            f"{prefix}longitude__gte": _decimal(box.min_lng - _BOX_MARGIN_DEGREES),
            f"{prefix}longitude__lte": _decimal(box.max_lng + _BOX_MARGIN_DEGREES),
        }
    )


def _decimal(value: float) -> Decimal:
    return Decimal(f"{value:.6f}")


def organizations_within(queryset: QuerySet, circle: Circle) -> QuerySet:
    """Organisations inside the circle, annotated with ``distance_km`` (box prefilter, exact distance in SQL)."""
    return (
        queryset.filter(_box_filter(circle))
        .annotate(distance_km=haversine_expression(circle.latitude, circle.longitude))
        .filter(distance_km__lte=circle.radius_km)
    )


def contacts_within(queryset: QuerySet, circle: Circle) -> QuerySet:
    """Contacts whose organisation lies inside the circle, annotated with ``distance_km``."""
    return (
        queryset.filter(_box_filter(circle, "organization__"))
        .annotate(distance_km=haversine_expression(circle.latitude, circle.longitude, "organization__"))
        .filter(distance_km__lte=circle.radius_km)
    )


class _UUIDAnyOf(Expression):
    """``column = ANY(%s::uuid[])``: many ids as one array parameter (PostgreSQL) instead of an IN list of
    hundreds of placeholders, which costs more to build and send than the query takes to run."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, ids):
        super().__init__(output_field=BooleanField())
        self.column = F(column)
        self.ids = [str(pk) for pk in ids]

    def get_source_expressions(self):
        return [self.column]

    def set_source_expressions(self, exprs):
        (self.column,) = exprs

    def as_sql(self, compiler, connection):
        sql, params = compiler.compile(self.column)
        return f"{sql} = ANY(%s::uuid[])", (*params, self.ids)


def uuid_in(column: str, ids) -> Q | Expression:
    """A filter "column is one of ids" that stays cheap for hundreds of ids."""
    if connection.vendor == "postgresql":
        return _UUIDAnyOf(column, ids)
    return Q(**{f"{column}__in": list(ids)})


def organization_search_q(term: str, prefix: str = "") -> Q:
    """Substring (case-insensitive) in name, local authority, town, postcode or URN."""
    q = Q()
    for field in ("name", "local_authority", "town", "postcode", "urn"):
        q |= Q(**{f"{prefix}{field}__icontains": term})
    return q


def nearby_organizations(
    circle: Circle,
    *,
    phase: str | None = None,
    gender: str | None = None,
    local_authority: str | None = None,
    town: str | None = None,
    search: str | None = None,
    queryset: QuerySet | None = None,
) -> QuerySet:
    """C7: geocoded organisations within the circle, nearest first (ties by name, then id)."""
    queryset = Organization.objects.all() if queryset is None else queryset
    if phase:
        queryset = queryset.filter(phase=phase)
    if gender:
        queryset = queryset.filter(gender=gender)
    if local_authority:
        queryset = queryset.filter(local_authority__icontains=local_authority)
    if town:
        queryset = queryset.filter(town__icontains=town)
    if search:
        queryset = queryset.filter(organization_search_q(search))
    return organizations_within(queryset, circle).order_by("distance_km", "name", "id")


def suppressed_expression(email_ref: str = "work_email") -> Exists:
    """True when the address is on the suppression list (both sides are stored lower-case)."""
    return Exists(Suppression.objects.filter(email=OuterRef(email_ref)))


def already_contacted_expression(candidate_id) -> Exists:
    """True when this candidate was already sent (or is being sent) to the contact."""
    return Exists(
        OutreachMessage.objects.filter(
            candidate_id=candidate_id, contact_id=OuterRef("pk"), status__in=ALREADY_CONTACTED_STATUSES
        )
    )


def nearby_contacts(
    circle: Circle,
    *,
    candidate_id=None,
    phase: str | None = None,
    gender: str | None = None,
    local_authority: str | None = None,
    town: str | None = None,
    postcode: str | None = None,
    org_name: str | None = None,
    job_title: str | None = None,
    contact_name: str | None = None,
    contact_email: str | None = None,
    search: str | None = None,
    exclude_contacted: bool = False,
    exclude_suppressed: bool = False,
) -> QuerySet:
    """C8: contacts of organisations within the circle, ordered by distance, organisation name, contact person.

    Each row carries ``distance_km``, ``suppressed`` and (with a candidate) ``already_contacted``; the
    organisation is joined (select_related), so a page costs one query plus the count.
    """
    queryset = Contact.objects.select_related("organization")
    filters = {
        "organization__phase": phase,
        "organization__gender": gender,
        "organization__local_authority__icontains": local_authority,
        "organization__town__icontains": town,
        "organization__postcode__icontains": postcode,
        "organization__name__icontains": org_name,
        "job_title__icontains": job_title,
        "contact_person__icontains": contact_name,
        "work_email__icontains": contact_email,
    }
    queryset = queryset.filter(**{key: value for key, value in filters.items() if value})
    if search:
        queryset = queryset.filter(
            Q(organization__name__icontains=search)
            | Q(organization__local_authority__icontains=search)
            | Q(organization__town__icontains=search)
            | Q(organization__postcode__icontains=search)
            | Q(contact_person__icontains=search)
            | Q(work_email__icontains=search)
            | Q(job_title__icontains=search)
        )
    queryset = contacts_within(queryset, circle).annotate(suppressed=suppressed_expression())
    if candidate_id is not None:
        queryset = queryset.annotate(already_contacted=already_contacted_expression(candidate_id))
        if exclude_contacted:
            queryset = queryset.filter(already_contacted=False)
    else:
        queryset = queryset.annotate(already_contacted=Value(False))
    if exclude_suppressed:
        queryset = queryset.filter(suppressed=False)
    return queryset.order_by("distance_km", F("organization__name"), "contact_person", "id")


class CountedPage:
    """One page of a queryset fetched together with the total (``COUNT(*) OVER ()``) in a single SQL query.

    Behaves, for Django's Paginator, like the whole sequence: ``count()`` is the total and slicing at the page's
    offset returns the fetched rows, so a paginated radius search costs one query instead of a COUNT and a page.
    """

    def __init__(self, queryset: QuerySet, offset: int, limit: int):
        """``queryset`` is a ``values()`` queryset; its rows come back as dicts."""
        rows = list(queryset.annotate(window_total=Window(Count("*")))[offset : offset + limit])
        if rows:
            total = rows[0]["window_total"]
        elif offset == 0:
            total = 0
        else:  # a page past the end: the paginator needs the real total to answer "Invalid page."
            total = queryset.count()
        self.offset, self.rows, self.total = offset, rows, total

    def count(self) -> int:
        return self.total

    def __len__(self) -> int:
        return self.total

    def __getitem__(self, key):
        if not isinstance(key, slice) or (key.start or 0) != self.offset:
            raise IndexError("Only the fetched page can be read.")
        stop = self.total if key.stop is None else key.stop
        return self.rows[: max(0, stop - self.offset)]


def rows_with_total(queryset: QuerySet, fields: tuple[str, ...], limit: int) -> tuple[list[dict], int]:
    """The first ``limit`` rows as ``values(*fields)`` and the total number of matches, in one query."""
    rows = list(queryset.annotate(window_total=Window(Count("*"))).values(*fields, "window_total")[:limit])
    return rows, (rows[0]["window_total"] if rows else 0)


def in_unit(km: float, unit: str) -> float:
    """A distance in the response unit (km or mi)."""
    return km_to_miles(km) if unit == "mi" else km
