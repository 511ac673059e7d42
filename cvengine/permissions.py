"""Caller classes of the API contract (api.md §1.2)."""

from django.conf import settings
from rest_framework import permissions


def is_operator(user) -> bool:
    return bool(
        user
        and user.is_authenticated
        and user.is_active
        and (user.is_staff or getattr(user, "role", None) == "superuser")
    )


def is_superuser(user) -> bool:
    return bool(
        user and user.is_authenticated and user.is_active and getattr(user, "role", None) == "superuser"
    )


class IsOperator(permissions.BasePermission):
    """Active account with ``is_staff`` or the superuser role (the default for every endpoint)."""

    def has_permission(self, request, view):
        return is_operator(request.user)


class IsSuperuser(permissions.BasePermission):
    def has_permission(self, request, view):
        return is_superuser(request.user)


class IsAuthenticatedActive(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and request.user.is_active)


class CanReadAPIDocs(permissions.BasePermission):
    """API docs are public only when API_DOCS_PUBLIC (default: with DEBUG); otherwise operators only."""

    def has_permission(self, request, view):
        return settings.API_DOCS_PUBLIC or is_operator(request.user)
