"""Outreach endpoints under /api/outreach/: unsubscribe (public), delivery events (provider), suppressions."""

from django.urls import path

from . import views

app_name = "outreach"
urlpatterns: list = [
    path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
    path("events/", views.DeliveryEventsView.as_view(), name="delivery-events"),
    path("suppressions/", views.SuppressionListView.as_view(), name="suppression-list"),
    path(
        "suppressions/<str:suppression_id>/", views.SuppressionDetailView.as_view(), name="suppression-detail"
    ),
]
