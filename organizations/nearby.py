"""Radius search over organisations and their contacts (imports-and-geo.md §7; api.md C7, C8, O1).

Everything happens in SQL, on PostgreSQL and SQLite alike:

1. a bounding-box prefilter: on PostgreSQL ``point(longitude, latitude) <@ box(…)`` served by the GiST index
   ``org_geo_box_gist``, on SQLite ``latitude BETWEEN … AND longitude BETWEEN …`` served by the partial B-tree
   index ``org_geo_box`` on (latitude, longitude);
2. the exact haversine distance (R = 6371.0088 km) computed with database functions on the boxed rows only, from
   the coordinates as double precision (generated columns ``latitude_float`` / ``longitude_float``);
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
    CharField,
    Count,
    Exists,
    Expression,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
    QuerySet,
    Value,
    Window,
)

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


class _Haversine(Expression):
    """Great-circle distance in km from a fixed point to the row's ``<prefix>latitude_float/longitude_float`` (the
    coordinates as double precision, generated columns), as one SQL expression rather than a tree of some twenty
    Django functions (Radians, Sin, Power, …) resolved and compiled twice (SELECT and WHERE) on every request."""

    output_field = FloatField()

    def __init__(self, latitude: float, longitude: float, prefix: str = ""):
        super().__init__(output_field=FloatField())
        self.latitude, self.longitude = F(f"{prefix}latitude_float"), F(f"{prefix}longitude_float")
        self.phi, self.lam = math.radians(latitude), math.radians(longitude)

    def get_source_expressions(self):
        return [self.latitude, self.longitude]

    def set_source_expressions(self, exprs):
        self.latitude, self.longitude = exprs

    def as_sql(self, compiler, connection, least="LEAST"):
        lat, lat_params = compiler.compile(self.latitude)
        lng, lng_params = compiler.compile(self.longitude)
        rlat, rlng = f"RADIANS({lat})", f"RADIANS({lng})"
        # 2R · asin(min(1, √(sin²(Δφ/2) + cos φ₀ · cos φ · sin²(Δλ/2)))); min() guards asin against a rounding
        # overshoot above 1 (antipodal points)
        sql = (
            f"(%s * ASIN({least}(SQRT(POWER(SIN(({rlat} - %s) / %s), 2) "
            f"+ %s * COS({rlat}) * POWER(SIN(({rlng} - %s) / %s), 2)), %s)))"
        )
        phi, lam = self.phi, self.lam
        params = (
            2 * EARTH_RADIUS_KM,
            *lat_params,
            phi,
            2.0,
            math.cos(phi),
            *lat_params,
            *lng_params,
            lam,
            2.0,
            1.0,
        )
        return sql, params

    def as_sqlite(self, compiler, connection):
        return self.as_sql(compiler, connection, least="MIN")


def haversine_expression(latitude: float, longitude: float, prefix: str = "") -> Expression:
    """Great-circle distance in km (R = 6371.0088) from a fixed point to the row's ``<prefix>`` coordinates."""
    return _Haversine(latitude, longitude, prefix)


class _InBox(Expression):
    """The bounding-box prefilter on the row's ``<prefix>latitude/longitude``.

    PostgreSQL: ``point(longitude_float, latitude_float) <@ box(…)``, served by the GiST index
    ``org_geo_box_gist`` (migration 0003), which reads only the entries inside the box; the (latitude, longitude)
    B-tree would walk the whole latitude strip and filter longitudes entry by entry. Other databases (SQLite):
    ``BETWEEN`` on the decimal columns, served by the B-tree ``org_geo_box``. Both boxes hold the same rows: the
    circle plus a 1e-6° margin.
    """

    output_field = BooleanField()
    conditional = True

    def __init__(self, box, prefix: str = ""):
        super().__init__(output_field=BooleanField())
        self.box = box
        self.latitude, self.longitude = F(f"{prefix}latitude"), F(f"{prefix}longitude")
        self.latitude_float, self.longitude_float = (
            F(f"{prefix}latitude_float"),
            F(f"{prefix}longitude_float"),
        )

    def get_source_expressions(self):
        return [self.latitude, self.longitude, self.latitude_float, self.longitude_float]

    def set_source_expressions(self, exprs):
        self.latitude, self.longitude, self.latitude_float, self.longitude_float = exprs

    def as_sql(self, compiler, connection):
        lat, lat_params = compiler.compile(self.latitude)
        lng, lng_params = compiler.compile(self.longitude)
        box = self.box
        sql = f"{lat} >= %s AND {lat} <= %s AND {lng} >= %s AND {lng} <= %s"
        bounds = [_decimal(box.min_lat), _decimal(box.max_lat), _decimal(box.min_lng), _decimal(box.max_lng)]
        return f"({sql})", (*lat_params, *lat_params, *lng_params, *lng_params, *bounds)

    def as_postgresql(self, compiler, connection):
        lat, lat_params = compiler.compile(self.latitude_float)
        lng, lng_params = compiler.compile(self.longitude_float)
        box = self.box
        # Written exactly as the index expression; the latitude test lets the partial index be used.
        sql = f"{lat} IS NOT NULL AND point({lng}, {lat}) <@ box(point(%s, %s), point(%s, %s))"
        bounds = (box.min_lng, box.min_lat, box.max_lng, box.max_lat)
        return f"({sql})", (*lat_params, *lng_params, *lat_params, *bounds)


def _box_filter(circle: Circle, prefix: str = "") -> _InBox:
    box = bounding_box(circle.latitude, circle.longitude, circle.radius_km)
    margin = _BOX_MARGIN_DEGREES
    widened = box._replace(
        min_lat=box.min_lat - margin,
        max_lat=box.max_lat + margin,
        min_lng=box.min_lng - margin,
        max_lng=box.max_lng + margin,
    )
    return _InBox(widened, prefix)


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
    """``column = ANY(%s::uuid[])`` (PostgreSQL) with the ids sent as one array literal ``'{id,id,…}'``: an IN list
    of hundreds of placeholders, or a Python list that psycopg quotes element by element, costs more to build
    and send than the query takes to run (uuids need no quoting inside the literal)."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, ids):
        super().__init__(output_field=BooleanField())
        self.column = F(column)
        self.ids = "{" + ",".join(str(pk) for pk in ids) + "}"

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


_UUID_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))  # 8-4-4-4-12 hex digits


class UUIDText(Func):
    """A UUID column as its canonical text (8-4-4-4-12, lower case), written by the database: rows that only
    print the id need no ``uuid.UUID`` object and no ``str()`` of it (~1 µs each, thousands per C7 page).
    PostgreSQL has a uuid type; SQLite stores Django's UUIDField as 32 hex digits."""

    output_field = CharField()

    def as_sql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        parts = " || '-' || ".join(f"substr({sql}, {start}, {length})" for start, length in _UUID_GROUPS)
        return f"({parts})", params * len(_UUID_GROUPS)

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = compiler.compile(self.source_expressions[0])
        return f"({sql})::text", params


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
    organisation is joined (select_related). The API pages it with :func:`nearby_contact_page` and
    :func:`nearby_contact_rows`.
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
    queryset = _with_contact_flags(contacts_within(queryset, circle), candidate_id)
    if exclude_contacted and candidate_id is not None:
        queryset = queryset.filter(already_contacted=False)
    if exclude_suppressed:
        queryset = queryset.filter(suppressed=False)
    return queryset.order_by("distance_km", F("organization__name"), "contact_person", "id")


def _with_contact_flags(queryset: QuerySet, candidate_id) -> QuerySet:
    """Contacts annotated with ``suppressed`` and ``already_contacted`` (with this candidate; False without one)."""
    contacted = already_contacted_expression(candidate_id) if candidate_id is not None else Value(False)
    return queryset.annotate(suppressed=suppressed_expression(), already_contacted=contacted)


def nearby_contact_page(queryset: QuerySet, offset: int, limit: int) -> "CountedPage":
    """One page of :func:`nearby_contacts` as ``{"id", "distance_km"}`` rows plus the total.

    Only the two keys go through the count and the sort: at 15 km in central London that is ~7,000 joined rows,
    and carrying every organisation column through ``COUNT(*) OVER ()`` cost more than the join itself. The
    page's few contacts are then read by primary key with :func:`nearby_contact_rows`."""
    return CountedPage(queryset.values("id", "distance_km"), offset, limit)


def nearby_contact_rows(keys: list[dict], fields: tuple[str, ...], candidate_id=None) -> list[dict]:
    """``values(*fields)`` rows of the page's contacts (``keys`` from :func:`nearby_contact_page`), in the page's
    order, with ``distance_km``, ``suppressed`` and ``already_contacted`` as :func:`nearby_contacts` has them.
    A contact deleted in between is left out."""
    if not keys:
        return []
    queryset = _with_contact_flags(
        Contact.objects.filter(uuid_in("id", [key["id"] for key in keys])), candidate_id
    )
    rows = {row["id"]: row for row in queryset.values(*(f for f in fields if f != "distance_km"))}
    return [{**rows[key["id"]], "distance_km": key["distance_km"]} for key in keys if key["id"] in rows]


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


def rows_with_total(
    queryset: QuerySet, fields: tuple[str, ...], limit: int, expressions: dict | None = None
) -> tuple[list[dict], int]:
    """The first ``limit`` rows as ``values(*fields, **expressions)`` and the total number of matches, in one
    query."""
    counted = queryset.annotate(window_total=Window(Count("*")))
    rows = list(counted.values(*fields, "window_total", **(expressions or {}))[:limit])
    return rows, (rows[0]["window_total"] if rows else 0)


def in_unit(km: float, unit: str) -> float:
    """A distance in the response unit (km or mi)."""
    return km_to_miles(km) if unit == "mi" else km
