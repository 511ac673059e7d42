from django.contrib import admin, messages

from . import services
from .models import CandidateEmail, DeliveryEvent, OutboxMessage, OutreachJob, OutreachMessage, Suppression


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records of what was sent: viewable, never edited by hand."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ["subject", "recipients", "from_email", "created_at"]
    search_fields = ["subject"]
    date_hierarchy = "created_at"

    @admin.display(description="To")
    def recipients(self, obj):
        return ", ".join(obj.to)


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["email", "reason", "source", "created_at"]
    list_filter = ["reason"]
    search_fields = ["email"]
    readonly_fields = ["created_at"]

    def has_delete_permission(self, request, obj=None):
        # Unsubscribes and spam reports are the recipient's decision (api.md §5.6).
        if obj is not None and obj.reason in services.LOCKED_REASONS:
            return False
        return super().has_delete_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.reason in services.LOCKED_REASONS:
            return False
        return super().has_change_permission(request, obj)


@admin.register(CandidateEmail)
class CandidateEmailAdmin(ReadOnlyAdmin):
    list_display = ["candidate", "kind", "status", "attempts", "sent_at", "created_at"]
    list_filter = ["kind", "status"]
    list_select_related = ["candidate"]
    actions = ["send_again"]

    @admin.action(description="Send the selected failed e-mails again")
    def send_again(self, request, queryset):
        count = sum(services.requeue_availability_email(record) for record in queryset)
        self.message_user(request, f"{count} e-mail(s) queued again.", messages.SUCCESS)


class OutreachMessageInline(admin.TabularInline):
    model = OutreachMessage
    fields = ["contact_email", "organization_name", "status", "delivery_status", "error", "sent_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutreachJob)
class OutreachJobAdmin(ReadOnlyAdmin):
    list_display = ["id", "candidate", "status", "requested_count", "created_by", "created_at", "finished_at"]
    list_filter = ["status"]
    list_select_related = ["candidate", "created_by"]
    date_hierarchy = "created_at"
    inlines = [OutreachMessageInline]


@admin.register(OutreachMessage)
class OutreachMessageAdmin(ReadOnlyAdmin):
    list_display = ["contact_email", "organization_name", "candidate", "status", "delivery_status", "sent_at"]
    list_filter = ["status", "delivery_status"]
    search_fields = ["contact_email", "organization_name", "provider_message_id"]
    list_select_related = ["candidate"]
    date_hierarchy = "created_at"


@admin.register(DeliveryEvent)
class DeliveryEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "received_at"]
    search_fields = ["event_id"]
