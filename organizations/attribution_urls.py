"""GET /api/attribution/ (public): the licences of the geodata in use (api.md §7)."""

from django.urls import path

from . import views

urlpatterns = [path("", views.attribution, name="attribution")]
