import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Cast, Lower


class Phase(models.TextChoices):
    SIXTEEN_PLUS = "16_plus", "16 plus"
    ALL_THROUGH = "all_through", "All through"
    MIDDLE_DEEMED_PRIMARY = "middle_deemed_primary", "Middle deemed primary"
    MIDDLE_DEEMED_SECONDARY = "middle_deemed_secondary", "Middle deemed secondary"
    NOT_APPLICABLE = "not_applicable", "Not applicable"
    NURSERY = "nursery", "Nursery"
    PRIMARY = "primary", "Primary"
    SECONDARY = "secondary", "Secondary"


class Gender(models.TextChoices):
    BOYS = "boys", "Boys"
    GIRLS = "girls", "Girls"
    MIXED = "mixed", "Mixed"
    NOT_APPLICABLE = "not_applicable", "Not applicable"


class GeocodePrecision(models.TextChoices):
    UNIT = "unit", "Unit postcode"
    SECTOR = "sector", "Postcode sector"
    OUTWARD = "outward", "Outward code"
    TOWN = "town", "Town"
    ONLINE = "online", "Online geocoder"
    MANUAL = "manual", "Entered manually"


# The columns an operator or an import writes (coordinates follow from the postcode).
ORGANIZATION_FIELDS = (
    "urn",
    "name",
    "local_authority",
    "phase",
    "gender",
    "telephone",
    "street",
    "address_line_1",
    "address_line_2",
    "town",
    "county",
    "postcode",
)


class Organization(models.Model):
    """A school (or other organisation) from the national list. URN is the key when present."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    urn = models.CharField(max_length=20, null=True, blank=True)
    name = models.CharField(max_length=255)
    local_authority = models.CharField(max_length=255)
    phase = models.CharField(max_length=30, choices=Phase.choices, default=Phase.NOT_APPLICABLE)
    gender = models.CharField(max_length=20, choices=Gender.choices, default=Gender.MIXED)
    telephone = models.CharField(max_length=30, blank=True)
    street = models.CharField(max_length=255, blank=True)
    address_line_1 = models.CharField(max_length=255, blank=True)
    address_line_2 = models.CharField(max_length=255, blank=True)
    town = models.CharField(max_length=100, blank=True)
    county = models.CharField(max_length=100, blank=True)
    postcode = models.CharField(max_length=10, blank=True)
    # decimal(9,6); null is "missing" — 0.0 is a real coordinate (the prime meridian crosses London).
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    # The same coordinates as double precision, kept by the database (generated columns): radius search computes
    # its distances and box on these, as a numeric → double cast per row and query costs more than the haversine.
    latitude_float = models.GeneratedField(
        expression=Cast("latitude", models.FloatField()), output_field=models.FloatField(), db_persist=True
    )
    longitude_float = models.GeneratedField(
        expression=Cast("longitude", models.FloatField()), output_field=models.FloatField(), db_persist=True
    )
    geocode_precision = models.CharField(
        max_length=10, choices=GeocodePrecision.choices, null=True, blank=True
    )
    geocoded_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "local_authority"]
        constraints = [
            models.UniqueConstraint(
                fields=["urn"], condition=Q(urn__isnull=False), name="organization_urn_unique"
            ),
        ]
        indexes = [
            # Radius search: bounding-box prefilter served by this index (imports-and-geo.md §7).
            models.Index(
                fields=["latitude", "longitude"], condition=Q(latitude__isnull=False), name="org_geo_box"
            ),
            models.Index(fields=["local_authority", "name"], name="org_la_name"),
            models.Index(fields=["postcode"], name="org_postcode"),
        ]

    def __str__(self):
        return f"{self.name} — {self.local_authority}"


class Contact(models.Model):
    """A person (or role mailbox) at a school. The e-mail address is globally unique, stored lower-case."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="contacts")
    contact_person = models.CharField(max_length=255)
    job_title = models.CharField(max_length=255, blank=True)
    work_email = models.EmailField(max_length=254)
    is_role_mailbox = models.BooleanField(default=False, help_text='Person equals job title, e.g. "Senco".')
    match_method = models.CharField(
        max_length=30, blank=True, help_text="How the import linked it to its school."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["contact_person"]
        constraints = [models.UniqueConstraint(Lower("work_email"), name="contact_email_ci_unique")]
        indexes = [models.Index(fields=["organization", "contact_person"], name="contact_org_person")]

    def __str__(self):
        return f"{self.contact_person} <{self.work_email}>"


class ImportJob(models.Model):
    """One spreadsheet import: the workbook lives in object storage, the worker reads it from there."""

    class Kind(models.TextChoices):
        ORGANIZATIONS = "organizations", "Organisations"
        CONTACTS = "contacts", "Contacts"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    dry_run = models.BooleanField(default=False)
    file = models.CharField(max_length=500, blank=True, help_text="Storage key of the uploaded workbook.")
    original_filename = models.CharField(max_length=255, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    rows_total = models.PositiveIntegerField(null=True, blank=True)
    rows_done = models.PositiveIntegerField(default=0)
    summary = models.JSONField(null=True, blank=True, help_text="ImportSummary (api.md O14) once finished.")
    rejects_file = models.CharField(max_length=500, blank=True)
    error = models.TextField(blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    progress_at = models.DateTimeField(
        null=True, blank=True, help_text="Last sign of life from the worker (a chunk committed)."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # Only one import of a kind runs at a time.
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(status__in=["pending", "processing"]),
                name="one_running_import_per_kind",
            )
        ]

    def __str__(self):
        return f"{self.kind} import {self.id} ({self.status})"


class GeoCache(models.Model):
    """Answers of the online geocoder (Nominatim), hits and misses, keyed by the normalised location text.

    The table is ``geo_cache`` (imports-and-geo.md §6). Hits are kept GEO_CACHE_TTL_DAYS, misses
    GEO_CACHE_MISS_TTL_DAYS; an expired row is simply asked again (and replaced).
    """

    query = models.CharField(max_length=1000, unique=True, help_text="Normalised location text.")
    found = models.BooleanField(default=False)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    matched = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        db_table = "geo_cache"

    def __str__(self):
        return f"{self.query} ({'hit' if self.found else 'miss'})"
