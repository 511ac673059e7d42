from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from .models import ActivityLog, User


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role", "is_staff", "is_active", "last_login"]
    list_filter = ["role", "is_staff", "is_active"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["date_joined", "updated_at", "last_login", "token_version"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "gender", "country"]}),
        ("Access", {"fields": ["role", "is_staff", "is_active", "token_version"]}),
        ("Dates", {"fields": ["last_login", "date_joined", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "role", "password1", "password2"]})]
    filter_horizontal = []

    def _superuser_only(self, request, obj=None):
        """User management is for superusers only, not for every operator."""
        return request.user.is_active and request.user.role == User.Role.SUPERUSER

    has_module_permission = _superuser_only
    has_view_permission = has_change_permission = has_add_permission = has_delete_permission = _superuser_only


@admin.register(ActivityLog)
class ActivityLogAdmin(admin.ModelAdmin):
    """Read-only view of the activity log (entries are written by the system only)."""

    list_display = ["created_at", "event_type", "severity", "title", "actor"]
    list_filter = ["severity", "event_type"]
    search_fields = ["title"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_select_related = ["actor"]
    readonly_fields = [
        "id",
        "event_type",
        "severity",
        "title",
        "message",
        "candidate_id",
        "batch_id",
        "organization_id",
        "actor",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
