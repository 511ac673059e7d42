"""Outreach endpoints that live under /api/candidates/ (send-to-contacts, send status, history)."""

from django.urls import path

from . import views

urlpatterns: list = [
    path("send-status/<str:task_id>/", views.SendStatusView.as_view(), name="outreach-send-status"),
    path(
        "<str:candidate_id>/send-to-contacts/",
        views.SendToContactsView.as_view(),
        name="outreach-send-to-contacts",
    ),
    path("<str:candidate_id>/outreach/", views.OutreachHistoryView.as_view(), name="outreach-history"),
]
