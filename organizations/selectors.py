"""Reads of organisations and contacts (api.md O1, O3, O6, O8, O9) and their geo filters.

Reusable by other apps: :func:`contact_queryset` (contacts annotated with ``is_suppressed``) and
:func:`organization_detail_queryset` (contacts prefetched in the OrganizationDetail order). Radius search is in
:mod:`organizations.nearby`.
"""

import math
from dataclasses import dataclass

from django.db.models import Count, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from rest_framework import status

from core.geo.distance import validate_coordinates
from core.geo.errors import GeoError
from cvengine.api import APIError

from . import locate
from .models import Contact, Organization
from .nearby import Circle, organization_search_q, organizations_within, suppressed_expression


def contact_count_expression(ref: str = "pk") -> Coalesce:
    """Number of contacts of the organisation ``ref`` (a subquery, so it costs nothing in COUNT(*) queries)."""
    counts = (
        Contact.objects.filter(organization_id=OuterRef(ref))
        .order_by()
        .values("organization_id")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counts, output_field=IntegerField()), Value(0))


def contact_queryset() -> QuerySet:
    return Contact.objects.annotate(is_suppressed=suppressed_expression())


def organization_detail_queryset() -> QuerySet:
    return Organization.objects.prefetch_related(
        Prefetch("contacts", queryset=contact_queryset().order_by("contact_person", "id"))
    )


# --- O1 --------------------------------------------------------------------------------------------------------


class InvalidGeoParameters(APIError):
    def __init__(self, reason: str):
        super().__init__(f"Invalid geo parameters: {reason}", "invalid_geo_parameters")


def _number(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise InvalidGeoParameters(f"{name} must be a number.")
    if not math.isfinite(value):
        raise InvalidGeoParameters(f"{name} must be a finite number.")
    return value


def geo_circle(params: dict, max_radius_km: float) -> Circle | None:
    """The O1 geo filter: ``lat`` + ``lng`` + ``radius_km`` (all or none) or ``near`` + ``radius_km``.

    400 ``Invalid geo parameters: <reason>`` for partial or bad values; 422 when ``near`` is unknown.
    """
    lat, lng, near, radius = (params.get(name) for name in ("lat", "lng", "near", "radius_km"))
    lat, lng, near, radius = (v.strip() if isinstance(v, str) else v for v in (lat, lng, near, radius))
    if not any((lat, lng, near, radius)):
        return None
    if near and (lat or lng):
        raise InvalidGeoParameters("use either lat + lng or near, not both.")
    if not near and not (lat and lng and radius):
        raise InvalidGeoParameters("lat, lng and radius_km must be given together.")
    if near and not radius:
        raise InvalidGeoParameters("near needs radius_km.")
    radius_km = _number(radius, "radius_km")
    if not 0 < radius_km <= max_radius_km:
        raise InvalidGeoParameters(f"radius_km must be greater than 0 and at most {max_radius_km:g}.")
    if near:
        centre = locate.resolve_near(near)
        return Circle(centre.latitude, centre.longitude, radius_km)
    try:
        latitude, longitude = validate_coordinates(_number(lat, "lat"), _number(lng, "lng"))
    except GeoError:
        raise InvalidGeoParameters("lat must lie in -90..90 and lng in -180..180.")
    return Circle(latitude, longitude, radius_km)


@dataclass(frozen=True)
class OrganizationList:
    queryset: QuerySet
    geo: bool


def organization_list(params: dict, circle: Circle | None) -> OrganizationList:
    """O1: filters AND-ed; ordering name (default), created_at or distance (geo filter only), ± '-'."""
    queryset = Organization.objects.annotate(contact_count=contact_count_expression())
    if params.get("search"):
        queryset = queryset.filter(organization_search_q(params["search"]))
    for name in ("name", "local_authority", "town", "postcode"):
        if params.get(name):
            queryset = queryset.filter(**{f"{name}__icontains": params[name]})
    if params.get("urn"):
        queryset = queryset.filter(urn=params["urn"])
    for name in ("phase", "gender"):
        if params.get(name):
            queryset = queryset.filter(**{name: params[name]})
    if circle is not None:
        queryset = organizations_within(queryset, circle)
    ordering = params.get("ordering") or "name"
    descending, key = ordering.startswith("-"), ordering.lstrip("-")
    if key == "distance" and circle is None:
        raise APIError(
            "ordering=distance needs a geo filter (lat + lng + radius_km, or near + radius_km).",
            "invalid_ordering",
            status.HTTP_400_BAD_REQUEST,
        )
    columns = {"name": ["name", "local_authority"], "created_at": ["created_at"], "distance": ["distance_km"]}
    order = [f"-{c}" if descending else c for c in columns[key]]
    return OrganizationList(queryset.order_by(*order, "name", "id"), geo=circle is not None)


# --- O8 --------------------------------------------------------------------------------------------------------


def contact_list(params: dict) -> QuerySet:
    """O8: contacts with their organisation, by contact person; substring filters, validated enums."""
    queryset = contact_queryset().select_related("organization")
    text_filters = {
        "job_title": "job_title__icontains",
        "contact_name": "contact_person__icontains",
        "contact_email": "work_email__icontains",
        "org_name": "organization__name__icontains",
        "local_authority": "organization__local_authority__icontains",
        "town": "organization__town__icontains",
        "postcode": "organization__postcode__icontains",
    }
    for name, lookup in text_filters.items():
        if params.get(name):
            queryset = queryset.filter(**{lookup: params[name]})
    for name in ("phase", "gender"):
        if params.get(name):
            queryset = queryset.filter(**{f"organization__{name}": params[name]})
    if params.get("search"):
        term = params["search"]
        queryset = queryset.filter(
            Q(contact_person__icontains=term)
            | Q(work_email__icontains=term)
            | Q(job_title__icontains=term)
            | Q(organization__name__icontains=term)
            | Q(organization__local_authority__icontains=term)
            | Q(organization__town__icontains=term)
            | Q(organization__postcode__icontains=term)
        )
    if params.get("is_suppressed") is not None:
        queryset = queryset.filter(is_suppressed=params["is_suppressed"])
    queryset = queryset.annotate(organization_contact_count=contact_count_expression("organization_id"))
    return queryset.order_by("contact_person", "id")


def organization_contacts(organization: Organization) -> QuerySet:
    """O6: the organisation's contacts by contact person (plain list)."""
    return contact_queryset().filter(organization=organization).order_by("contact_person", "id")
