"""Read-mostly admin for batches and candidates: operators browse, search and filter; deletion goes through the
same service as the API (files queued for cleanup). Edits belong to the API (edited_fields, search text, PDF
regeneration), so the admin never changes a row itself."""

from django.contrib import admin
from django.utils.html import format_html

from cvengine.permissions import is_operator
from cvengine.storage import signed_url

from . import selectors, services
from .models import Batch, Candidate


class OperatorReadOnlyAdmin(admin.ModelAdmin):
    """Active operators (is_staff or the superuser role) may view and delete; nobody adds or edits here."""

    def has_module_permission(self, request):
        return is_operator(request.user)

    def has_view_permission(self, request, obj=None):
        return is_operator(request.user)

    def has_delete_permission(self, request, obj=None):
        return is_operator(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class StageFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(status, status.replace("_", " ").capitalize()) for status in selectors.BATCH_STATUSES]

    def queryset(self, request, queryset):
        return queryset.filter(stat_status=self.value()) if self.value() else queryset


@admin.register(Batch)
class BatchAdmin(OperatorReadOnlyAdmin):
    list_display = [
        "id",
        "created_at",
        "created_by",
        "uploaded_count",
        "total",
        "processed",
        "failed",
        "status",
    ]
    list_filter = [StageFilter, "created_at"]
    search_fields = ["id"]
    date_hierarchy = "created_at"
    list_select_related = ["created_by"]
    fields = [
        "id",
        "created_by",
        "created_at",
        "updated_at",
        "finished_at",
        "uploaded_count",
        "duplicate_count",
        "rejected_count",
        "total",
        "processed",
        "failed",
        "status",
        "additional_info",
        "files",
    ]
    readonly_fields = fields

    def get_queryset(self, request):
        return selectors.annotate_batch_stats(super().get_queryset(request))

    @admin.display(description="Candidates", ordering="stat_total")
    def total(self, batch):
        return batch.stat_total

    @admin.display(description="Processed", ordering="stat_stage_completed")
    def processed(self, batch):
        return batch.stat_stage_completed

    @admin.display(description="Failed", ordering="stat_stage_failed")
    def failed(self, batch):
        return batch.stat_stage_failed

    @admin.display(description="Status", ordering="stat_status")
    def status(self, batch):
        return batch.stat_status

    def delete_model(self, request, obj):
        services.delete_batch(obj.pk)

    def delete_queryset(self, request, queryset):
        for pk in list(queryset.values_list("pk", flat=True)):
            services.delete_batch(pk)


@admin.register(Candidate)
class CandidateAdmin(OperatorReadOnlyAdmin):
    list_display = [
        "__str__",
        "processing_stage",
        "quality_status",
        "availability_status",
        "source",
        "location",
        "batch",
        "created_at",
    ]
    list_filter = ["processing_stage", "quality_status", "availability_status", "source", "rewrite_status"]
    # search_text is lower-cased and trigram-indexed on PostgreSQL: the admin search stays indexed.
    search_fields = ["search_text"]
    date_hierarchy = "created_at"
    list_select_related = False
    show_full_result_count = False
    exclude = ["extracted_text", "search_text"]
    readonly_fields = ["original_cv", "enhanced_cv_pdf", "photo"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("extracted_text", "ai_enhanced_cv_content")

    def get_search_results(self, request, queryset, search_term):
        from .search import normalise_query

        return super().get_search_results(request, queryset, normalise_query(search_term))

    def get_readonly_fields(self, request, obj=None):
        model_fields = [f.name for f in Candidate._meta.fields if f.name not in self.exclude]
        return [*model_fields, *self.readonly_fields]

    def _link(self, name, download_name=None):
        url = signed_url(name or None, download_name)
        return format_html('<a href="{}">download</a>', url) if url else "-"

    @admin.display(description="Original CV")
    def original_cv(self, candidate):
        return self._link(candidate.original_file, candidate.original_filename or None)

    @admin.display(description="Enhanced CV")
    def enhanced_cv_pdf(self, candidate):
        return self._link(candidate.enhanced_cv, selectors.enhanced_cv_download_name(candidate))

    @admin.display(description="Photo")
    def photo(self, candidate):
        return self._link(candidate.profile_photo)

    def delete_model(self, request, obj):
        services.delete_candidate(obj.pk)

    def delete_queryset(self, request, queryset):
        for pk in list(queryset.values_list("pk", flat=True)):
            services.delete_candidate(pk)
