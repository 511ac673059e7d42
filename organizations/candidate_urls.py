"""Nearby search for a candidate (api.md C7, C8), mounted under /api/candidates/ beside the candidates app."""

from django.urls import path

from . import views

app_name = "nearby"

urlpatterns = [
    path(
        "<str:candidate_id>/nearby-organizations/",
        views.NearbyOrganizationsView.as_view(),
        name="organizations",
    ),
    path("<str:candidate_id>/nearby-contacts/", views.NearbyContactsView.as_view(), name="contacts"),
]
