"""Outreach endpoints that live under /api/candidates/ (send-to-contacts, send status, history)."""

urlpatterns: list = []
