"""Outreach endpoints under /api/outreach/: unsubscribe (public), delivery events (provider), suppressions."""

from django.conf import settings
from django.urls import path

from . import views


def _esp_tracking_webhook() -> list:
    """Delivery events of an anymail ESP (``EMAIL_PROVIDER=anymail:<esp>``): anymail's tracking webhook for that ESP
    at ``events/<esp>/``, whose events reach :mod:`outreach.webhooks` through anymail's ``tracking`` signal. Mounted
    only with ``ANYMAIL_WEBHOOK_SECRET``, its basic-auth guard: without it anymail would take anyone's events."""
    provider = settings.EMAIL_PROVIDER
    if not provider.startswith("anymail:") or not settings.ANYMAIL.get("WEBHOOK_SECRET"):
        return []
    from anymail import urls as anymail_urls

    esp = provider.partition(":")[2]
    views_by_name = {pattern.name: pattern.callback for pattern in anymail_urls.urlpatterns}
    view = views_by_name.get(f"{esp}_tracking_webhook")
    return [path(f"events/{esp}/", view, name="esp-delivery-events")] if view else []


app_name = "outreach"


def build_urlpatterns() -> list:
    return [
        path("unsubscribe/<str:token>/", views.UnsubscribeView.as_view(), name="unsubscribe"),
        path("events/", views.DeliveryEventsView.as_view(), name="delivery-events"),
        *_esp_tracking_webhook(),
        path("suppressions/", views.SuppressionListView.as_view(), name="suppression-list"),
        path(
            "suppressions/<str:suppression_id>/",
            views.SuppressionDetailView.as_view(),
            name="suppression-detail",
        ),
    ]


urlpatterns = build_urlpatterns()
