from django.apps import AppConfig


class OutreachConfig(AppConfig):
    name = "outreach"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from anymail.signals import tracking

        from . import webhooks

        # Tracking webhooks of any ESP that anymail handles feed the same event application as /api/outreach/events/.
        tracking.connect(webhooks.on_anymail_tracking, dispatch_uid="outreach.anymail_tracking")
