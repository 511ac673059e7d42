"""Request validation and response shapes of the outreach endpoints (api.md §5)."""

import django_filters
from django.conf import settings
from rest_framework import serializers

from .models import OutreachJob, OutreachMessage, Suppression

# --- 5.1 send-to-contacts ---------------------------------------------------------------------------------------


class SendOptionsSerializer(serializers.Serializer):
    """The optional fields of a send (contact_ids are checked afterwards, in the contract's order)."""

    subject = serializers.CharField(required=False, allow_blank=True, max_length=200)
    body = serializers.CharField(required=False, allow_blank=True, max_length=20000, trim_whitespace=False)
    force = serializers.BooleanField(required=False, default=False)

    def validate_subject(self, value: str) -> str:
        if "\r" in value or "\n" in value:
            raise serializers.ValidationError("The subject must be a single line.")
        return value


class SendToContactsSerializer(SendOptionsSerializer):
    contact_ids = serializers.ListField(
        child=serializers.UUIDField(),
        min_length=1,
        help_text=f"1–{settings.OUTREACH_MAX_CONTACTS} contact ids (duplicates are ignored).",
    )
    subject = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        help_text="Defaults to the candidate's email_subject.",
    )
    body = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=20000,
        help_text="Defaults to the candidate's email_body.",
    )
    force = serializers.BooleanField(
        required=False, default=False, help_text="Also re-send to contacts already sent this candidate."
    )


class SendAcceptedSerializer(serializers.Serializer):
    message = serializers.CharField()
    task_id = serializers.UUIDField()
    candidate = serializers.CharField()
    contact_count = serializers.IntegerField(help_text="Unique contact ids submitted.")
    poll_url = serializers.CharField()
    to_send = serializers.IntegerField()
    skipped_already_sent = serializers.IntegerField()
    skipped_suppressed = serializers.IntegerField()
    not_found = serializers.IntegerField()


class PIIGuardErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    terms = serializers.ListField(child=serializers.CharField())


# --- 5.2 send status --------------------------------------------------------------------------------------------


class SendProgressSerializer(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField()


class SendSummarySerializer(serializers.Serializer):
    total = serializers.IntegerField()
    sent = serializers.IntegerField()
    failed = serializers.IntegerField()
    skipped = serializers.IntegerField(help_text="Already sent this candidate (no force).")
    suppressed = serializers.IntegerField()
    not_found = serializers.IntegerField()
    errors = serializers.ListField(child=serializers.CharField(), help_text='["<email>: <reason>"]')


class SendResultSerializer(serializers.Serializer):
    contact_id = serializers.UUIDField(allow_null=True)
    email = serializers.EmailField(allow_null=True)
    organization_name = serializers.CharField(allow_null=True)
    status = serializers.ChoiceField(
        ["queued", "sending", "sent", "failed", "skipped_already_sent", "skipped_suppressed", "not_found"]
    )
    message_id = serializers.CharField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    delivery_status = serializers.ChoiceField(OutreachMessage.Delivery.choices, allow_null=True)


class SendStatusSerializer(serializers.Serializer):
    """pending: status, message · processing: + progress · completed: summary, results · failed: + error."""

    status = serializers.ChoiceField(OutreachJob.Status.choices)
    message = serializers.CharField(required=False)
    progress = SendProgressSerializer(required=False)
    error = serializers.CharField(required=False)
    summary = SendSummarySerializer(required=False)
    results = SendResultSerializer(many=True, required=False)


# --- 5.3 outreach history ---------------------------------------------------------------------------------------


class OutreachMessageSerializer(serializers.ModelSerializer):
    task_id = serializers.UUIDField(source="job_id", read_only=True)
    contact_id = serializers.UUIDField(read_only=True, allow_null=True)
    organization_id = serializers.UUIDField(read_only=True, allow_null=True)
    created_by = serializers.UUIDField(source="created_by_id", read_only=True, allow_null=True)

    class Meta:
        model = OutreachMessage
        fields = [
            "id",
            "task_id",
            "contact_id",
            "contact_person",
            "contact_email",
            "organization_id",
            "organization_name",
            "subject",
            "status",
            "delivery_status",
            "provider_message_id",
            "error",
            "sent_at",
            "delivery_updated_at",
            "created_by",
        ]
        read_only_fields = fields


class OutreachHistoryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=OutreachMessage.Status.choices)
    delivery_status = django_filters.ChoiceFilter(choices=OutreachMessage.Delivery.choices)
    contact_id = django_filters.UUIDFilter(field_name="contact_id")

    class Meta:
        model = OutreachMessage
        fields = ["status", "delivery_status", "contact_id"]


# --- 5.4 unsubscribe --------------------------------------------------------------------------------------------


class UnsubscribeSerializer(serializers.Serializer):
    detail = serializers.CharField()
    email = serializers.CharField(help_text="Masked address, e.g. j***@school.org.uk.")


# --- 5.5 delivery events ----------------------------------------------------------------------------------------


class ProviderEventSerializer(serializers.Serializer):
    """A SendGrid event-webhook entry (other keys are accepted and ignored)."""

    event = serializers.CharField()
    email = serializers.EmailField()
    timestamp = serializers.IntegerField()
    sg_event_id = serializers.CharField()
    sg_message_id = serializers.CharField(required=False)
    outreach_id = serializers.UUIDField(
        required=False, help_text="Custom argument set on every outreach e-mail."
    )


class DeliveryEventsResultSerializer(serializers.Serializer):
    processed = serializers.IntegerField()
    ignored = serializers.IntegerField()


# --- 5.6 suppressions -------------------------------------------------------------------------------------------


class SuppressionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Suppression
        fields = ["id", "email", "reason", "source", "note", "created_at"]
        read_only_fields = fields


class SuppressionCreateSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")

    def validate_email(self, value: str) -> str:
        return value.strip().lower()


class SuppressionFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(method="filter_search", help_text="Part of the address.")
    reason = django_filters.ChoiceFilter(choices=Suppression.Reason.choices)

    class Meta:
        model = Suppression
        fields = ["search", "reason"]

    def filter_search(self, queryset, name, value):
        return queryset.filter(email__icontains=value.strip().lower())


class OutreachErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class ThrottledSerializer(serializers.Serializer):
    detail = serializers.CharField()
    retry_after = serializers.IntegerField()
