from django.contrib import admin

from .models import Contact, GeoCache, ImportJob, Organization


class ContactInline(admin.TabularInline):
    model = Contact
    extra = 0
    fields = ("contact_person", "job_title", "work_email", "is_role_mailbox", "match_method")
    readonly_fields = ("match_method",)
    show_change_link = True


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ("name", "urn", "local_authority", "phase", "town", "postcode", "geocode_precision")
    list_filter = ("phase", "gender", "geocode_precision")
    search_fields = ("name", "urn", "local_authority", "town", "postcode")
    readonly_fields = ("id", "geocoded_at", "created_at", "updated_at")
    inlines = [ContactInline]
    show_full_result_count = False


@admin.register(Contact)
class ContactAdmin(admin.ModelAdmin):
    list_display = ("contact_person", "job_title", "work_email", "organization", "match_method")
    list_filter = ("is_role_mailbox", "match_method")
    search_fields = ("contact_person", "work_email", "organization__name")
    raw_id_fields = ("organization",)
    readonly_fields = ("id", "created_at", "updated_at")
    show_full_result_count = False


@admin.register(ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    list_display = ("id", "kind", "status", "dry_run", "rows_done", "rows_total", "created_at", "finished_at")
    list_filter = ("kind", "status", "dry_run")
    readonly_fields = [field.name for field in ImportJob._meta.fields]

    def has_add_permission(self, request):
        return False  # jobs are created by uploads (O12/O13) or the import_* commands


@admin.register(GeoCache)
class GeoCacheAdmin(admin.ModelAdmin):
    list_display = ("query", "found", "latitude", "longitude", "matched", "expires_at")
    list_filter = ("found",)
    search_fields = ("query",)
