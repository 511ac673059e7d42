import uuid

from django.conf import settings
from django.db import models


class OutboxMessage(models.Model):
    """An e-mail captured by the outbox backend (embedded mode): stored and viewable instead of sent."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    message_id = models.CharField(max_length=255, blank=True)
    from_email = models.CharField(max_length=320)
    to = models.JSONField(default=list)
    cc = models.JSONField(default=list, blank=True)
    bcc = models.JSONField(default=list, blank=True)
    reply_to = models.JSONField(default=list, blank=True)
    subject = models.CharField(max_length=998)
    body = models.TextField(blank=True)
    html_body = models.TextField(blank=True)
    headers = models.JSONField(default=dict, blank=True)
    attachments = models.JSONField(default=list, blank=True, help_text="[{filename, mimetype, size}]")

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return self.subject


class Suppression(models.Model):
    """An address that must never be e-mailed (unsubscribe, bounce, spam report or added by an operator)."""

    class Reason(models.TextChoices):
        UNSUBSCRIBE = "unsubscribe", "Unsubscribed"
        BOUNCE = "bounce", "Bounced"
        SPAM_REPORT = "spam_report", "Spam report"
        MANUAL = "manual", "Added manually"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True, help_text="Stored lower-case.")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    source = models.CharField(
        max_length=100, blank=True, help_text="What added it: link, provider event, user."
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.email} ({self.reason})"


class CandidateEmail(models.Model):
    """An e-mail to a candidate. Unique per (candidate, kind): inserted before sending, so never sent twice."""

    class Kind(models.TextChoices):
        AVAILABILITY = "availability", "Availability"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED_SUPPRESSED = "skipped_suppressed", "Skipped (suppressed)"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    candidate = models.ForeignKey("candidates.Candidate", on_delete=models.CASCADE, related_name="emails")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    provider_message_id = models.CharField(max_length=255, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["candidate", "kind"], name="one_email_per_candidate_kind")
        ]

    def __str__(self):
        return f"{self.kind} e-mail ({self.status})"


class OutreachJob(models.Model):
    """One send-to-contacts request; its id is the task id clients poll."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    candidate = models.ForeignKey(
        "candidates.Candidate", on_delete=models.CASCADE, related_name="outreach_jobs"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    force = models.BooleanField(default=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    requested_count = models.PositiveIntegerField(default=0, help_text="Unique contact ids submitted.")
    not_found_ids = models.JSONField(default=list, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    lease_until = models.DateTimeField(
        null=True, blank=True, help_text="Set while a worker is sending this job; a second delivery waits."
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Outreach {self.id} ({self.status})"


class OutreachMessage(models.Model):
    """One contact of one send: created (queued) before sending; the per-recipient record of what happened."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED_ALREADY_SENT = "skipped_already_sent", "Skipped (already sent)"
        SKIPPED_SUPPRESSED = "skipped_suppressed", "Skipped (suppressed)"

    class Delivery(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        DELIVERED = "delivered", "Delivered"
        DEFERRED = "deferred", "Deferred"
        BOUNCED = "bounced", "Bounced"
        DROPPED = "dropped", "Dropped"
        SPAM_REPORT = "spam_report", "Spam report"
        UNSUBSCRIBED = "unsubscribed", "Unsubscribed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    job = models.ForeignKey(OutreachJob, on_delete=models.CASCADE, related_name="messages")
    candidate = models.ForeignKey(
        "candidates.Candidate", on_delete=models.CASCADE, related_name="outreach_messages"
    )
    # The contact may be deleted later; the record keeps what was sent to whom.
    contact = models.ForeignKey(
        "organizations.Contact", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    contact_email = models.EmailField(max_length=254)
    contact_person = models.CharField(max_length=255, blank=True)
    organization_id = models.UUIDField(null=True, blank=True)
    organization_name = models.CharField(max_length=255, blank=True)
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=30, choices=Status.choices, default=Status.QUEUED)
    delivery_status = models.CharField(max_length=20, choices=Delivery.choices, default=Delivery.UNKNOWN)
    provider_message_id = models.CharField(max_length=255, blank=True, db_index=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    delivery_updated_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [models.UniqueConstraint(fields=["job", "contact"], name="one_message_per_job_contact")]
        indexes = [models.Index(fields=["candidate", "contact", "status"], name="outreach_candidate_contact")]

    def __str__(self):
        return f"{self.subject} ({self.status})"


class DeliveryEvent(models.Model):
    """Provider event ids already applied, so replayed webhooks are harmless."""

    event_id = models.CharField(max_length=255, primary_key=True)
    received_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.event_id
