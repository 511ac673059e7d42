"""Candidate and batch representations (api.md §1.9) and the C5/C9 input rules."""

import json

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.utils import html

from core.geo.errors import InvalidPostcode
from core.geo.postcodes import normalise_postcode
from cvengine.storage import signed_url

from . import photos
from .models import Availability, Candidate, Quality, Source, Stage
from .selectors import EMPTY_STATS, batch_stats, enhanced_cv_download_name, stats_of

REGENERATING_MESSAGE = "CV is being regenerated, please allow a few moments."
AI_STATUSES = ("not_started", "in_progress", "completed", "failed")
MAX_LIST_ITEMS = 50
MAX_LIST_ITEM_LENGTH = 100


# Signed file links: null when there is no file (api.md §1.8).
NULLABLE_URL = serializers.URLField(allow_null=True)


def photo_url(candidate: Candidate) -> str | None:
    return signed_url(candidate.profile_photo or None)


# --- output -----------------------------------------------------------------------------------------------------


class CandidateListItemSerializer(serializers.ModelSerializer):
    batch = serializers.UUIDField(source="batch_id", allow_null=True, read_only=True)
    profile_photo_url = serializers.SerializerMethodField()
    ai_processing_status = serializers.ChoiceField(choices=AI_STATUSES, read_only=True)
    skills = serializers.ListField(child=serializers.CharField(), read_only=True)
    job_titles = serializers.ListField(child=serializers.CharField(), read_only=True)

    class Meta:
        model = Candidate
        fields = [
            "id",
            "name",
            "name_without_surname",
            "email",
            "whatsapp_number",
            "location",
            "years_of_experience",
            "skills",
            "job_titles",
            "profile_photo_url",
            "source",
            "availability_status",
            "quality_status",
            "ai_processing_status",
            "created_at",
            "batch",
            "processing_stage",
        ]
        read_only_fields = fields

    @extend_schema_field(NULLABLE_URL)
    def get_profile_photo_url(self, candidate) -> str | None:
        return photo_url(candidate)


class GeoSerializer(serializers.Serializer):
    latitude = serializers.FloatField()
    longitude = serializers.FloatField()
    precision = serializers.CharField()
    matched = serializers.CharField()
    geocoded_at = serializers.DateTimeField(allow_null=True)


class CandidateDetailSerializer(serializers.ModelSerializer):
    """CandidateDetail. ``context["regenerating"]``: a re-render is pending, so the old PDF link is withheld
    (the PATCH response); C4 keeps showing the previous PDF until the new one is stored."""

    batch = serializers.UUIDField(source="batch_id", allow_null=True, read_only=True)
    duplicate_of = serializers.UUIDField(source="duplicate_of_id", allow_null=True, read_only=True)
    ai_processing_status = serializers.ChoiceField(choices=AI_STATUSES, read_only=True)
    skills = serializers.ListField(child=serializers.CharField(), read_only=True)
    job_titles = serializers.ListField(child=serializers.CharField(), read_only=True)
    quality_reasons = serializers.ListField(child=serializers.CharField(), read_only=True)
    ai_enhanced_cv_content = serializers.JSONField(read_only=True, allow_null=True)
    profile_photo_url = serializers.SerializerMethodField()
    original_cv_url = serializers.SerializerMethodField()
    enhanced_cv_url = serializers.SerializerMethodField()
    cv_status_message = serializers.SerializerMethodField()
    geo = serializers.SerializerMethodField()

    class Meta:
        model = Candidate
        fields = [
            "id",
            "batch",
            "name",
            "name_without_surname",
            "email",
            "whatsapp_number",
            "location",
            "postcode",
            "years_of_experience",
            "skills",
            "job_titles",
            "profile_photo_url",
            "source",
            "availability_status",
            "quality_status",
            "quality_reasons",
            "ai_processing_status",
            "processing_stage",
            "failure_stage",
            "failure_code",
            "stage_updated_at",
            "ai_task_id",
            "ai_enhanced_cv_content",
            "ai_failure_reason",
            "ai_retry_count",
            "email_subject",
            "email_body",
            "notes",
            "original_cv_url",
            "original_filename",
            "file_type",
            "file_sha256",
            "duplicate_of",
            "enhanced_cv_url",
            "cv_status_message",
            "pdf_regeneration_error",
            "rewrite_status",
            "rewrite_failure_reason",
            "geo",
            "availability_email_sent_at",
            "last_contacted_at",
            "contacts_emailed_count",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(NULLABLE_URL)
    def get_profile_photo_url(self, candidate) -> str | None:
        return photo_url(candidate)

    @extend_schema_field(NULLABLE_URL)
    def get_original_cv_url(self, candidate) -> str | None:
        return signed_url(candidate.original_file or None, candidate.original_filename or None)

    @extend_schema_field(NULLABLE_URL)
    def get_enhanced_cv_url(self, candidate) -> str | None:
        if self.context.get("regenerating") or not candidate.enhanced_cv:
            return None
        return signed_url(candidate.enhanced_cv, enhanced_cv_download_name(candidate))

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_cv_status_message(self, candidate) -> str | None:
        if candidate.pending_render_hash or self.context.get("regenerating"):
            return REGENERATING_MESSAGE
        return None

    @extend_schema_field(GeoSerializer(allow_null=True))
    def get_geo(self, candidate) -> dict | None:
        if candidate.latitude is None or candidate.longitude is None:
            return None
        return GeoSerializer(
            {
                "latitude": float(candidate.latitude),
                "longitude": float(candidate.longitude),
                "precision": candidate.geo_precision,
                "matched": candidate.geo_matched,
                "geocoded_at": candidate.geocoded_at,
            }
        ).data


class StageCountsSerializer(serializers.Serializer):
    queued = serializers.IntegerField()
    extracting = serializers.IntegerField()
    analysing = serializers.IntegerField()
    rendering = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()


class QualityCountsSerializer(serializers.Serializer):
    pending = serializers.IntegerField()
    passed = serializers.IntegerField()
    failed = serializers.IntegerField()
    manual = serializers.IntegerField()


class BatchSerializer(serializers.Serializer):
    """Batch (api.md §1.9): every count derived from the current candidates, never stored.

    Fast path: a batch from :func:`candidates.selectors.batch_queryset` (annotated, no extra query). Any other
    Batch instance costs one aggregate query.
    """

    id = serializers.UUIDField(read_only=True)
    additional_info = serializers.JSONField(read_only=True)
    uploaded_count = serializers.IntegerField(read_only=True)
    total_count = serializers.IntegerField(read_only=True)
    processed_count = serializers.IntegerField(read_only=True)
    failed_count = serializers.IntegerField(read_only=True)
    active_count = serializers.IntegerField(read_only=True)
    deleted_count = serializers.IntegerField(read_only=True)
    duplicate_count = serializers.IntegerField(read_only=True)
    rejected_count = serializers.IntegerField(read_only=True)
    stage_counts = StageCountsSerializer(read_only=True)
    quality_counts = QualityCountsSerializer(read_only=True)
    progress_percentage = serializers.IntegerField(read_only=True)
    status = serializers.ChoiceField(
        choices=["queued", "processing", "completed", "completed_with_errors"], read_only=True
    )
    created_by = serializers.UUIDField(read_only=True, allow_null=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def to_representation(self, batch):
        if hasattr(batch, "stat_total"):
            stats = stats_of(batch)
        else:
            stats = batch_stats([batch.pk]).get(batch.pk, EMPTY_STATS)
        datetime_field = serializers.DateTimeField()
        return {
            "id": str(batch.id),
            "additional_info": batch.additional_info,
            "uploaded_count": batch.uploaded_count,
            **stats.as_dict(uploaded_count=batch.uploaded_count),
            "duplicate_count": batch.duplicate_count,
            "rejected_count": batch.rejected_count,
            "created_by": str(batch.created_by_id) if batch.created_by_id else None,
            "finished_at": datetime_field.to_representation(batch.finished_at) if batch.finished_at else None,
            "created_at": datetime_field.to_representation(batch.created_at),
            "updated_at": datetime_field.to_representation(batch.updated_at),
        }


class FileReasonSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class FileOutcomeSerializer(serializers.Serializer):
    index = serializers.IntegerField()
    filename = serializers.CharField()
    size = serializers.IntegerField()
    sha256 = serializers.CharField(allow_null=True)
    detected_type = serializers.ChoiceField(choices=["pdf", "docx", "odt", "rtf", "txt"], allow_null=True)
    status = serializers.ChoiceField(choices=["accepted", "duplicate", "rejected"])
    candidate_id = serializers.UUIDField(allow_null=True)
    duplicate_of = serializers.UUIDField(allow_null=True)
    reason = FileReasonSerializer(allow_null=True)


class BatchDetailSerializer(BatchSerializer):
    # A plain string here: the enum is documented once, on Batch (one choice set per component keeps the
    # generated enum names stable).
    status = serializers.CharField(read_only=True, help_text="As Batch.status.")
    files = FileOutcomeSerializer(many=True, read_only=True)

    def to_representation(self, batch):
        return {
            **super().to_representation(batch),
            "files": batch.files if isinstance(batch.files, list) else [],
        }


# --- input ------------------------------------------------------------------------------------------------------


class BlankIsNullMixin:
    """``""`` (or only spaces) means null for nullable fields: multipart forms cannot send null."""

    def run_validation(self, data=empty):
        if self.allow_null and isinstance(data, str) and not data.strip():
            return None
        return super().run_validation(data)


class NullableCharField(BlankIsNullMixin, serializers.CharField):
    pass


class NullableEmailField(BlankIsNullMixin, serializers.EmailField):
    pass


class NullableDecimalField(BlankIsNullMixin, serializers.DecimalField):
    pass


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "string", "maxLength": MAX_LIST_ITEM_LENGTH},
        "maxItems": MAX_LIST_ITEMS,
    }
)
class StringListField(serializers.ListField):
    """A list of short strings: a JSON list, a JSON-array string (multipart), or repeated form fields.

    Limits apply per item after JSON parsing (reference-defects B7): ≤50 items, each ≤100 characters. Items are
    trimmed; blanks and case-insensitive duplicates are dropped.
    """

    default_error_messages = {
        "invalid_json": "Enter a JSON list of strings.",
        "too_many": f"Ensure this field has no more than {MAX_LIST_ITEMS} elements.",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("child", serializers.CharField(max_length=MAX_LIST_ITEM_LENGTH, allow_blank=True))
        super().__init__(**kwargs)

    def get_value(self, dictionary):
        value = super().get_value(dictionary)
        if html.is_html_input(dictionary) and isinstance(value, list) and len(value) == 1:
            only = value[0]
            if isinstance(only, str) and only.strip().startswith("["):
                return only  # one JSON-array string in a form field
        return value

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                self.fail("invalid_json")
            if not isinstance(data, list):
                self.fail("invalid_json")
        items = super().to_internal_value(data)
        cleaned, seen = [], set()
        for item in items:
            text = " ".join(item.split())
            if text and text.casefold() not in seen:
                seen.add(text.casefold())
                cleaned.append(text)
        if len(cleaned) > MAX_LIST_ITEMS:
            self.fail("too_many")
        return cleaned


class CandidateUpdateSerializer(serializers.Serializer):
    """C5 writable fields (partial). Unknown and read-only keys are ignored."""

    name = serializers.CharField(max_length=255, allow_blank=True, required=False)
    name_without_surname = serializers.CharField(max_length=255, allow_blank=True, required=False)
    email = NullableEmailField(max_length=254, allow_null=True, required=False)
    whatsapp_number = NullableCharField(max_length=30, allow_null=True, required=False)
    location = NullableCharField(max_length=255, allow_null=True, required=False)
    postcode = NullableCharField(max_length=16, allow_null=True, required=False)
    years_of_experience = NullableDecimalField(
        max_digits=3, decimal_places=1, min_value=0, max_value=60, allow_null=True, required=False
    )
    skills = StringListField(required=False)
    job_titles = StringListField(required=False)
    profile_photo = serializers.FileField(
        allow_null=True, required=False, help_text="JPEG, PNG or WebP, at most 5 MB; null removes the photo."
    )
    source = serializers.ChoiceField(choices=Source.choices, required=False)
    availability_status = serializers.ChoiceField(choices=Availability.choices, required=False)
    quality_status = serializers.ChoiceField(choices=Quality.choices, required=False)
    email_subject = serializers.CharField(max_length=500, allow_blank=True, required=False)
    email_body = serializers.CharField(
        max_length=20_000, allow_blank=True, required=False, trim_whitespace=False
    )
    notes = serializers.CharField(allow_blank=True, allow_null=True, required=False, trim_whitespace=False)

    def validate_email(self, value):
        if value is None:
            return None
        value = value.strip().lower()
        others = Candidate.objects.filter(email__iexact=value)
        if self.instance is not None:
            others = others.exclude(pk=self.instance.pk)
        if others.exists():
            raise serializers.ValidationError("A candidate with this email already exists.")
        return value

    def validate_postcode(self, value):
        if value is None:
            return None
        try:
            return normalise_postcode(value)
        except InvalidPostcode:
            raise serializers.ValidationError("Enter a valid UK postcode, e.g. SW1A 1AA.")

    def validate_profile_photo(self, value):
        """A new picture becomes re-encoded JPEG bytes; null stays null (remove)."""
        if value is None:
            return None
        try:
            return photos.reencode_upload(value)
        except photos.InvalidImage as exc:
            raise serializers.ValidationError(str(exc))

    def to_internal_value(self, data):
        if not hasattr(data, "get"):
            raise serializers.ValidationError(
                {"non_field_errors": ["Invalid data. Expected an object."]}, code="invalid"
            )
        return super().to_internal_value(data)


class RewriteRequestSerializer(serializers.Serializer):
    instruction = serializers.CharField(
        max_length=1000, allow_blank=True, allow_null=True, required=False, default=""
    )


# --- responses (documentation and shaping) ----------------------------------------------------------------------


class CandidateErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class CandidateMessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class BatchDeletedSerializer(serializers.Serializer):
    message = serializers.CharField()
    candidates_deleted = serializers.IntegerField()
    files_queued = serializers.IntegerField()


class RewriteStartedSerializer(serializers.Serializer):
    message = serializers.CharField()
    rewrite_task_id = serializers.UUIDField()
    rewrite_status = serializers.CharField(help_text='"processing"')


class RewriteInProgressErrorSerializer(CandidateErrorSerializer):
    rewrite_task_id = serializers.UUIDField(allow_null=True)


class RewriteProcessingSerializer(serializers.Serializer):
    rewrite_status = serializers.CharField(help_text='"processing"')
    message = serializers.CharField()
    rewrite_task_id = serializers.UUIDField(allow_null=True)


class RewriteFailedSerializer(serializers.Serializer):
    rewrite_status = serializers.CharField(help_text='"failed"')
    rewrite_failure_reason = serializers.CharField()


class RewriteCompletedSerializer(serializers.Serializer):
    rewrite_status = serializers.CharField(help_text='"completed"')
    candidate = CandidateDetailSerializer()


class RewriteIdleSerializer(serializers.Serializer):
    rewrite_status = serializers.CharField(help_text='"idle"')
    message = serializers.CharField()


class RetryStartedSerializer(serializers.Serializer):
    message = serializers.CharField()
    candidate_id = serializers.UUIDField()
    from_stage = serializers.ChoiceField(choices=[Stage.EXTRACTING, Stage.ANALYSING, Stage.RENDERING])
    ai_processing_status = serializers.ChoiceField(choices=AI_STATUSES)


class NotRetryableSerializer(CandidateErrorSerializer):
    ai_processing_status = serializers.ChoiceField(choices=AI_STATUSES)


class RetryFailedSerializer(serializers.Serializer):
    message = serializers.CharField()
    retried = serializers.IntegerField()
    candidate_ids = serializers.ListField(child=serializers.UUIDField())
