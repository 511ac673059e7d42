"""Shapes of the organisation, contact, nearby and import endpoints (api.md §1.9, §3 C7/C8, §4)."""

from collections import defaultdict
from datetime import UTC, datetime
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone
from rest_framework import serializers

from core.geo.distance import KM_PER_MILE, miles_to_km
from core.geo.errors import InvalidPostcode
from core.geo.postcodes import normalise_postcode
from core.imports.telephone import normalise_telephone

from .fields import FiniteFloatField, GenderField, PhaseField, TrimmedCharField
from .models import ORGANIZATION_FIELDS, Contact, Gender, ImportJob, Organization, Phase

URN_MAX = 20
_COORD_QUANTUM = Decimal("0.000001")


def round2(value: float | None) -> float | None:
    return None if value is None else round(float(value), 2)


# --- read shapes ----------------------------------------------------------------------------------------------


class OrganizationContactSerializer(serializers.ModelSerializer):
    """A contact inside OrganizationDetail."""

    is_suppressed = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = ("id", "contact_person", "job_title", "work_email", "is_suppressed")

    def get_is_suppressed(self, contact) -> bool:
        return bool(getattr(contact, "is_suppressed", False))


def _gender_field():
    return serializers.CharField(read_only=True, help_text="Code: " + " | ".join(Gender.values) + ".")


class OrganizationListItemSerializer(serializers.ModelSerializer):
    gender = _gender_field()
    contact_count = serializers.SerializerMethodField()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True, read_only=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True, read_only=True)
    distance_km = serializers.SerializerMethodField(
        help_text="Only present while a geo filter is active (km, 2 dp)."
    )

    class Meta:
        model = Organization
        fields = (
            "id",
            "urn",
            "name",
            "local_authority",
            "phase",
            "gender",
            "town",
            "postcode",
            "telephone",
            "contact_count",
            "created_at",
            "latitude",
            "longitude",
            "geocode_precision",
            "distance_km",
        )

    def get_contact_count(self, organization) -> int:
        return int(getattr(organization, "contact_count", 0) or 0)

    def get_distance_km(self, organization) -> float | None:
        return round2(getattr(organization, "distance_km", None))

    def to_representation(self, organization):
        data = super().to_representation(organization)
        if getattr(organization, "distance_km", None) is None:
            data.pop("distance_km")
        return data


# OrganizationDetail's own columns, in the contract's order (also read with ``values()`` for C7).
DETAIL_VALUE_FIELDS = (*ORGANIZATION_FIELDS, "latitude", "longitude", "geocode_precision")


class OrganizationDetailSerializer(serializers.ModelSerializer):
    gender = _gender_field()
    latitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True, read_only=True)
    longitude = serializers.DecimalField(max_digits=9, decimal_places=6, allow_null=True, read_only=True)
    contacts = OrganizationContactSerializer(many=True, read_only=True)

    class Meta:
        model = Organization
        fields = ("id", *DETAIL_VALUE_FIELDS, "contacts", "created_at", "updated_at")


def detail_text_values() -> dict:
    """The rest of OrganizationDetail's columns for ``values(*DETAIL_VALUE_FIELDS, **detail_text_values())``:
    the id and timestamps as text written by the database. Parsing a datetime per row in Python (Django's
    time-zone loader) and formatting it again cost more than the rest of a 500-row page."""
    from .nearby import UUIDText

    return {
        "id_text": UUIDText("id"),
        "created_text": Cast("created_at", TextField()),
        "updated_text": Cast("updated_at", TextField()),
    }


def _datetime(value, zone) -> str | None:
    """As DRF renders datetimes (ISO 8601 in the current time zone, UTC as 'Z'), without its per-call overhead."""
    if value is None:
        return None
    text = value.astimezone(zone).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def _datetime_text(text: str | None, zone) -> str | None:
    """:func:`_datetime` of a timestamp the database wrote as text: PostgreSQL '2026-11-28 12:26:00.1+00'
    (ISO DateStyle, which psycopg requires anyway), SQLite '2026-11-28 12:26:00.100000' (naive UTC)."""
    if text is None:
        return None
    value = datetime.fromisoformat(text)
    return _datetime(value if value.tzinfo else value.replace(tzinfo=UTC), zone)


def _coordinate(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(_COORD_QUANTUM), "f")


def organization_detail_rows(rows: list[dict]) -> list[dict]:
    """OrganizationDetail for many organisations from ``values(*DETAIL_VALUE_FIELDS, **detail_text_values())``
    rows: the same JSON as :class:`OrganizationDetailSerializer`, built without per-field serializer overhead
    (C7 returns up to 2000), with every contact fetched in one query."""
    from .nearby import UUIDText, uuid_in
    from .selectors import contact_queryset

    zone = timezone.get_current_timezone()
    contacts: dict = defaultdict(list)
    ids = [row["id_text"] for row in rows]
    if ids:
        contact_rows = (
            contact_queryset()
            .filter(uuid_in("organization_id", ids))
            # by organisation first: the grouping below keeps each one's (person, id) order, and the sort
            # compares names (collation) only within an organisation
            .order_by("organization_id", "contact_person", "id")
            .values_list(
                UUIDText("organization_id"),
                UUIDText("id"),
                "contact_person",
                "job_title",
                "work_email",
                "is_suppressed",
            )
        )
        for organization_id, pk, person, title, email, suppressed in contact_rows:
            contacts[organization_id].append(
                {
                    "id": pk,
                    "contact_person": person,
                    "job_title": title,
                    "work_email": email,
                    "is_suppressed": bool(suppressed),
                }
            )
    return [
        {
            "id": row["id_text"],
            "urn": row["urn"],
            "name": row["name"],
            "local_authority": row["local_authority"],
            "phase": row["phase"],
            "gender": row["gender"],
            "telephone": row["telephone"],
            "street": row["street"],
            "address_line_1": row["address_line_1"],
            "address_line_2": row["address_line_2"],
            "town": row["town"],
            "county": row["county"],
            "postcode": row["postcode"],
            "latitude": _coordinate(row["latitude"]),
            "longitude": _coordinate(row["longitude"]),
            "geocode_precision": row["geocode_precision"],
            "contacts": contacts.get(row["id_text"], []),
            "created_at": _datetime_text(row["created_text"], zone),
            "updated_at": _datetime_text(row["updated_text"], zone),
        }
        for row in rows
    ]


class ContactSerializer(serializers.ModelSerializer):
    organization = serializers.UUIDField(source="organization_id", read_only=True)
    is_suppressed = serializers.SerializerMethodField()

    class Meta:
        model = Contact
        fields = (
            "id",
            "organization",
            "contact_person",
            "job_title",
            "work_email",
            "created_at",
            "updated_at",
            "is_suppressed",
            "is_role_mailbox",
        )

    def get_is_suppressed(self, contact) -> bool:
        return bool(getattr(contact, "is_suppressed", False))


class ContactWithOrgSerializer(ContactSerializer):
    organization = serializers.SerializerMethodField()

    def get_organization(self, contact) -> OrganizationListItemSerializer:
        organization = contact.organization
        organization.contact_count = getattr(contact, "organization_contact_count", 0)
        return OrganizationListItemSerializer(organization).data


class OrganizationsMessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class OrganizationsErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class ConflictSerializer(OrganizationsErrorSerializer):
    task_id = serializers.UUIDField()


class UploadRejectedSerializer(OrganizationsErrorSerializer):
    reason = serializers.CharField(required=False, help_text="What the file was found to be.")


# --- write shapes ---------------------------------------------------------------------------------------------


class CoordinateField(serializers.DecimalField):
    """A decimal(9,6) coordinate; more decimals are rounded (not rejected), ranges validated."""

    def __init__(self, limit: int, **kwargs):
        self.limit = limit
        super().__init__(max_digits=None, decimal_places=None, allow_null=True, required=False, **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            raise serializers.ValidationError("A number is required.")
        value = super().to_internal_value(data)
        if not value.is_finite():
            raise serializers.ValidationError("A finite number is required.")
        if not -self.limit <= value <= self.limit:
            raise serializers.ValidationError(f"Must lie between -{self.limit} and {self.limit}.")
        return value.quantize(_COORD_QUANTUM, rounding=ROUND_HALF_UP)


class BlankToEmptyCharField(serializers.CharField):
    """Optional text stored as '' when blank or null."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("allow_blank", True)
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(data) if data is not None else ""

    def validate_empty_values(self, data):
        if data is None:
            return True, ""
        return super().validate_empty_values(data)


class OrganizationWriteSerializer(serializers.Serializer):
    """O2 / O4 input. Normalises URN, telephone and postcode; coordinates are both-or-neither."""

    urn = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=URN_MAX)
    name = serializers.CharField(max_length=255)
    local_authority = serializers.CharField(max_length=255)
    phase = PhaseField(required=False)
    gender = GenderField(required=False)
    telephone = BlankToEmptyCharField(max_length=30)
    street = BlankToEmptyCharField(max_length=255)
    address_line_1 = BlankToEmptyCharField(max_length=255)
    address_line_2 = BlankToEmptyCharField(max_length=255)
    town = BlankToEmptyCharField(max_length=100)
    county = BlankToEmptyCharField(max_length=100)
    postcode = BlankToEmptyCharField(max_length=10)
    latitude = CoordinateField(90)
    longitude = CoordinateField(180)

    def validate_urn(self, value):
        value = (value or "").strip()
        if not value:
            return None
        if not (value.isascii() and value.isdigit()):
            raise serializers.ValidationError("The URN must contain digits only.")
        return value

    def validate_telephone(self, value):
        if not value.strip():
            return ""
        telephone = normalise_telephone(value)
        if telephone.value is None:
            raise serializers.ValidationError("Enter a UK telephone number.")
        return telephone.value

    def validate_postcode(self, value):
        if not value.strip():
            return ""
        try:
            return normalise_postcode(value)
        except InvalidPostcode:
            raise serializers.ValidationError("Enter a valid UK postcode, e.g. SW1A 1AA.")

    def validate(self, attrs):
        if ("latitude" in attrs) != ("longitude" in attrs) or (
            "latitude" in attrs and (attrs["latitude"] is None) != (attrs["longitude"] is None)
        ):
            raise serializers.ValidationError(
                {"non_field_errors": ["Send both latitude and longitude, or neither."]}
            )
        for name in ("name", "local_authority"):
            if name in attrs:
                attrs[name] = attrs[name].strip()
                if not attrs[name]:
                    raise serializers.ValidationError({name: ["This field may not be blank."]})
        return attrs


class ContactWriteSerializer(serializers.Serializer):
    """O7 / O10 input (organisation from the path on O7; ``organization`` may move a contact on O10)."""

    organization = serializers.UUIDField(required=False)
    contact_person = serializers.CharField(max_length=255)
    job_title = BlankToEmptyCharField(max_length=255)
    work_email = serializers.EmailField(max_length=254)

    def validate_work_email(self, value):
        return value.strip().lower()

    def validate_contact_person(self, value):
        value = value.strip()
        if not value:
            raise serializers.ValidationError("This field may not be blank.")
        return value


# --- query parameters -----------------------------------------------------------------------------------------


class RadiusQuerySerializer(serializers.Serializer):
    """``radius_km`` (default 10) or ``radius`` + ``unit`` (km|mi); 0 < r ≤ GEO_MAX_RADIUS_KM."""

    radius_km = FiniteFloatField(required=False, help_text="Kilometres, default 10.")
    radius = FiniteFloatField(required=False, help_text="In `unit`; overrides radius_km.")
    unit = serializers.CharField(required=False, help_text="km (default) or mi.")

    def validate_unit(self, value):
        unit = value.strip().lower()
        if unit not in ("km", "mi"):
            raise serializers.ValidationError("Use km or mi.")
        return unit

    def validate(self, attrs):
        attrs = super().validate(attrs)
        unit = attrs.get("unit") or "km"
        if attrs.get("radius") is not None:
            given, key = attrs["radius"], "radius"
            radius_km = miles_to_km(given) if unit == "mi" else given
        else:
            radius_km = attrs.get("radius_km", 10.0)
            key = "radius_km"
        limit = settings.GEO_MAX_RADIUS_KM
        if not 0 < radius_km <= limit + 1e-9:
            raise serializers.ValidationError(
                {key: [f"The radius must be greater than 0 and at most {limit:g} km."]}
            )
        attrs["unit"] = unit
        attrs["radius_km"] = min(radius_km, limit)
        if attrs.get("radius") is None:
            attrs["radius"] = attrs["radius_km"] / KM_PER_MILE if unit == "mi" else attrs["radius_km"]
        return attrs


class NearbyOrganizationsQuerySerializer(RadiusQuerySerializer):
    phase = PhaseField(required=False, allow_null=True)
    gender = GenderField(required=False, allow_null=True)
    local_authority = TrimmedCharField()
    town = TrimmedCharField()
    search = TrimmedCharField()
    limit = serializers.IntegerField(required=False, min_value=1, max_value=2000, default=500)


class NearbyContactsQuerySerializer(RadiusQuerySerializer):
    phase = PhaseField(required=False, allow_null=True)
    gender = GenderField(required=False, allow_null=True)
    local_authority = TrimmedCharField()
    town = TrimmedCharField()
    postcode = TrimmedCharField()
    org_name = TrimmedCharField()
    job_title = TrimmedCharField()
    contact_name = TrimmedCharField()
    contact_email = TrimmedCharField()
    search = TrimmedCharField()
    exclude_contacted = serializers.BooleanField(required=False, default=False)
    exclude_suppressed = serializers.BooleanField(required=False, default=False)
    page = serializers.CharField(required=False, help_text="Page number (default 1).")
    page_size = serializers.CharField(required=False, help_text="Default 20, at most 100.")


ORGANIZATION_ORDERING = ("name", "-name", "created_at", "-created_at", "distance", "-distance")


class OrganizationListQuerySerializer(serializers.Serializer):
    search = TrimmedCharField()
    name = TrimmedCharField()
    local_authority = TrimmedCharField()
    town = TrimmedCharField()
    postcode = TrimmedCharField()
    urn = TrimmedCharField(max_length=URN_MAX, help_text="Exact URN.")
    phase = PhaseField(required=False, allow_null=True)
    gender = GenderField(required=False, allow_null=True)
    lat = serializers.CharField(required=False, help_text="Latitude -90..90 (with lng and radius_km).")
    lng = serializers.CharField(required=False, help_text="Longitude -180..180 (with lat and radius_km).")
    near = serializers.CharField(
        required=False, max_length=200, help_text="A UK postcode or town (with radius_km)."
    )
    radius_km = serializers.CharField(required=False, help_text="0 < r ≤ GEO_MAX_RADIUS_KM (200).")
    ordering = serializers.ChoiceField(
        ORGANIZATION_ORDERING,
        required=False,
        help_text="name, created_at, distance (geo filter only); ± '-'.",
    )
    page = serializers.CharField(required=False, help_text="Page number (default 1).")
    page_size = serializers.CharField(required=False, help_text="Default 20, at most 100.")


class ContactListQuerySerializer(serializers.Serializer):
    job_title = TrimmedCharField()
    contact_name = TrimmedCharField()
    contact_email = TrimmedCharField()
    search = TrimmedCharField()
    org_name = TrimmedCharField()
    local_authority = TrimmedCharField()
    town = TrimmedCharField()
    postcode = TrimmedCharField()
    phase = PhaseField(required=False, allow_null=True)
    gender = GenderField(required=False, allow_null=True)
    is_suppressed = serializers.BooleanField(required=False, allow_null=True, default=None)
    page = serializers.CharField(required=False, help_text="Page number (default 1).")
    page_size = serializers.CharField(required=False, help_text="Default 20, at most 100.")


# --- nearby responses -----------------------------------------------------------------------------------------


class NearbyOrganizationItemSerializer(serializers.Serializer):
    distance_km = serializers.FloatField()
    distance = serializers.FloatField(help_text="In `unit`.")
    organization = OrganizationDetailSerializer()


class NearbyOrganizationsSerializer(serializers.Serializer):
    candidate = serializers.CharField()
    candidate_location = serializers.CharField(allow_null=True)
    candidate_lat = serializers.FloatField()
    candidate_lng = serializers.FloatField()
    candidate_geo_precision = serializers.CharField(allow_blank=True)
    radius_km = serializers.FloatField()
    radius = serializers.FloatField()
    unit = serializers.ChoiceField(["km", "mi"])
    total_found = serializers.IntegerField()
    truncated = serializers.BooleanField()
    organizations = NearbyOrganizationItemSerializer(many=True)


class NearbyContactSerializer(serializers.Serializer):
    """C8 item (schema; the rows are built by :func:`nearby_contact_items`)."""

    contact_id = serializers.UUIDField()
    contact_person = serializers.CharField()
    contact_email = serializers.EmailField()
    contact_job_title = serializers.CharField()
    organization_id = serializers.UUIDField()
    organization_name = serializers.CharField()
    organization_urn = serializers.CharField(allow_null=True)
    organization_phase = serializers.CharField(help_text="Label, e.g. Primary.")
    organization_gender = serializers.CharField(help_text="Label, e.g. Mixed.")
    organization_town = serializers.CharField()
    organization_county = serializers.CharField()
    organization_postcode = serializers.CharField()
    organization_local_authority = serializers.CharField()
    organization_telephone = serializers.CharField()
    distance_km = serializers.FloatField()
    distance = serializers.FloatField(help_text="In `unit`.")
    already_contacted = serializers.BooleanField()
    suppressed = serializers.BooleanField()


NEARBY_CONTACT_FIELDS = (
    "id",
    "contact_person",
    "work_email",
    "job_title",
    "organization_id",
    "organization__name",
    "organization__urn",
    "organization__phase",
    "organization__gender",
    "organization__town",
    "organization__county",
    "organization__postcode",
    "organization__local_authority",
    "organization__telephone",
    "distance_km",
    "already_contacted",
    "suppressed",
)
_PHASE_LABELS = dict(Phase.choices)
_GENDER_LABELS = dict(Gender.choices)


def nearby_contact_items(rows: list[dict], unit: str) -> list[dict]:
    """C8 items from ``values(*NEARBY_CONTACT_FIELDS)`` rows (phase and gender as labels)."""
    from .nearby import in_unit

    return [
        {
            "contact_id": str(row["id"]),
            "contact_person": row["contact_person"],
            "contact_email": row["work_email"],
            "contact_job_title": row["job_title"],
            "organization_id": str(row["organization_id"]),
            "organization_name": row["organization__name"],
            "organization_urn": row["organization__urn"],
            "organization_phase": _PHASE_LABELS.get(row["organization__phase"], row["organization__phase"]),
            "organization_gender": _GENDER_LABELS.get(
                row["organization__gender"], row["organization__gender"]
            ),
            "organization_town": row["organization__town"],
            "organization_county": row["organization__county"],
            "organization_postcode": row["organization__postcode"],
            "organization_local_authority": row["organization__local_authority"],
            "organization_telephone": row["organization__telephone"],
            "distance_km": round2(row["distance_km"]),
            "distance": round2(in_unit(row["distance_km"], unit)),
            "already_contacted": bool(row["already_contacted"]),
            "suppressed": bool(row["suppressed"]),
        }
        for row in rows
    ]


class NearbyContactsExtraSerializer(serializers.Serializer):
    """Top-level keys beside ``pagination`` and ``results`` (C8)."""

    candidate = serializers.CharField()
    candidate_location = serializers.CharField(allow_null=True)
    radius_km = serializers.FloatField()
    radius = serializers.FloatField()
    unit = serializers.ChoiceField(["km", "mi"])


# --- imports --------------------------------------------------------------------------------------------------


class ImportUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        help_text="The workbook: .xlsx (also .xls, .ods, .csv), recognised by content, at most 50 MB."
    )
    dry_run = serializers.BooleanField(required=False, default=False)


class ImportStartedSerializer(serializers.Serializer):
    message = serializers.CharField()
    task_id = serializers.UUIDField()
    note = serializers.CharField()
    status_url = serializers.CharField()


class ImportProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    code = serializers.CharField()
    severity = serializers.ChoiceField(["error", "warning"])
    reason = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    value = serializers.CharField(allow_null=True)


class ImportCountsSerializer(serializers.Serializer):
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    skipped = serializers.IntegerField()
    unmatched = serializers.IntegerField()
    ambiguous = serializers.IntegerField()
    errors = serializers.IntegerField()
    warnings = serializers.IntegerField()


class ImportSummarySerializer(serializers.Serializer):
    """ImportSummary (api.md O14). Organisation jobs use ``organizations_*`` keys, contact jobs ``contacts_*``."""

    kind = serializers.ChoiceField(ImportJob.Kind.values)
    dry_run = serializers.BooleanField()
    total_rows = serializers.IntegerField()
    organizations_created = serializers.IntegerField(required=False)
    organizations_updated = serializers.IntegerField(required=False)
    organizations_unchanged = serializers.IntegerField(required=False)
    organizations_skipped = serializers.IntegerField(required=False)
    contacts_created = serializers.IntegerField(required=False)
    contacts_updated = serializers.IntegerField(required=False)
    contacts_unchanged = serializers.IntegerField(required=False)
    contacts_skipped = serializers.IntegerField(required=False)
    counts = ImportCountsSerializer()
    errors = serializers.ListField(child=serializers.CharField(), help_text='"Row N: …", first 1000.')
    problems = ImportProblemSerializer(many=True, help_text="First 1000.")
    problems_truncated = serializers.BooleanField()
    rejects_url = serializers.CharField(allow_null=True)
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ImportProgressSerializer(serializers.Serializer):
    rows_done = serializers.IntegerField()
    rows_total = serializers.IntegerField(allow_null=True)


class ImportStatusSerializer(serializers.Serializer):
    """One of: pending {status, message}; processing {status, message, progress}; completed {status, summary};
    failed {status, error, summary (partial or null)}."""

    status = serializers.ChoiceField(ImportJob.Status.values)
    message = serializers.CharField(required=False)
    progress = ImportProgressSerializer(required=False)
    summary = ImportSummarySerializer(required=False, allow_null=True)
    error = serializers.CharField(required=False)


class AttributionEntrySerializer(serializers.Serializer):
    dataset = serializers.CharField()
    licence = serializers.CharField()
    text = serializers.CharField()


class AttributionSerializer(serializers.Serializer):
    attribution = AttributionEntrySerializer(many=True)
