import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower


class Stage(models.TextChoices):
    """Where a candidate is in the pipeline (pipeline.md §2)."""

    QUEUED = "queued", "Queued"
    EXTRACTING = "extracting", "Extracting"
    ANALYSING = "analysing", "Analysing"
    RENDERING = "rendering", "Rendering"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


UNFINISHED_STAGES = (Stage.QUEUED, Stage.EXTRACTING, Stage.ANALYSING, Stage.RENDERING)

# ai_processing_status is kept for compatibility and derived from the stage, never stored.
AI_STATUS_BY_STAGE = {
    Stage.QUEUED: "not_started",
    Stage.EXTRACTING: "in_progress",
    Stage.ANALYSING: "in_progress",
    Stage.RENDERING: "in_progress",
    Stage.DONE: "completed",
    Stage.FAILED: "failed",
}
STAGES_BY_AI_STATUS = {
    status: [stage for stage, derived in AI_STATUS_BY_STAGE.items() if derived == status]
    for status in ("not_started", "in_progress", "completed", "failed")
}


class Source(models.TextChoices):
    LOCAL_UPLOAD = "local_upload", "Local upload"
    CRM = "crm", "CRM"
    PREVIOUS_DB = "previous_db", "Previous database"


class Availability(models.TextChoices):
    AVAILABLE = "available", "Available"
    NOT_AVAILABLE = "not_available", "Not available"
    OPEN_TO_OFFERS = "open_to_offers", "Open to offers"


class Quality(models.TextChoices):
    PENDING = "pending", "Pending"
    PASSED = "passed", "Passed"
    FAILED = "failed", "Failed"
    MANUAL = "manual", "Manual review"


class RewriteStatus(models.TextChoices):
    IDLE = "idle", "Idle"
    PROCESSING = "processing", "Processing"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class Batch(models.Model):
    """One upload request. Counts and status are always derived from its candidates, never stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    additional_info = models.JSONField(default=dict, blank=True)
    uploaded_count = models.PositiveIntegerField(default=0, help_text="Files accepted at upload.")
    duplicate_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    files = models.JSONField(default=list, blank=True, help_text="FileOutcome per uploaded file (api.md C2).")
    finished_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "batches"

    def __str__(self):
        return f"Batch {self.id}"


class Candidate(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    batch = models.ForeignKey(
        Batch, on_delete=models.CASCADE, related_name="candidates", null=True, blank=True
    )

    # Profile (mapped from the analysis result; fields in edited_fields are never overwritten by re-analysis).
    name = models.CharField(max_length=255, blank=True)
    name_without_surname = models.CharField(max_length=255, blank=True)
    email = models.EmailField(max_length=254, null=True, blank=True)
    whatsapp_number = models.CharField(max_length=30, null=True, blank=True)
    location = models.CharField(max_length=255, null=True, blank=True)
    postcode = models.CharField(max_length=10, null=True, blank=True)
    years_of_experience = models.DecimalField(max_digits=4, decimal_places=1, null=True, blank=True)
    skills = models.JSONField(default=list, blank=True)
    job_titles = models.JSONField(default=list, blank=True)
    profile_photo = models.CharField(
        max_length=500, blank=True, help_text="Storage key of the extracted photo."
    )
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.LOCAL_UPLOAD)
    availability_status = models.CharField(
        max_length=20, choices=Availability.choices, default=Availability.AVAILABLE
    )
    quality_status = models.CharField(max_length=10, choices=Quality.choices, default=Quality.PENDING)
    quality_reasons = models.JSONField(default=list, blank=True)
    email_subject = models.CharField(max_length=500, blank=True)
    email_body = models.TextField(blank=True)
    notes = models.TextField(null=True, blank=True)
    edited_fields = models.JSONField(default=list, blank=True, help_text="Fields an operator has edited.")
    # Lower-cased concatenation of the searchable fields (name, e-mail, phone, location, skills, job titles),
    # trigram-indexed on PostgreSQL so that substring search stays indexed (reference-defects P8).
    search_text = models.TextField(blank=True, default="")

    # The uploaded file.
    original_file = models.CharField(max_length=500, blank=True)
    original_filename = models.CharField(max_length=255, blank=True)
    file_type = models.CharField(max_length=10, blank=True)
    file_size = models.PositiveIntegerField(default=0)
    file_sha256 = models.CharField(max_length=64, db_index=True)
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    extracted_text = models.TextField(blank=True, help_text="Internal only; never sent to clients.")
    text_from_ocr = models.BooleanField(default=False)

    # Pipeline state (pipeline.md §2): every transition is a conditional update on (id, run_id, stage).
    processing_stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.QUEUED)
    stage_updated_at = models.DateTimeField(auto_now_add=True)
    run_id = models.UUIDField(default=uuid.uuid4)
    failure_stage = models.CharField(max_length=12, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)
    ai_failure_reason = models.TextField(blank=True)
    ai_retry_count = models.PositiveIntegerField(default=0)
    requeued_at = models.DateTimeField(
        null=True, blank=True, help_text="Stuck run re-enqueued once (reaper)."
    )
    ai_task_id = models.CharField(max_length=100, blank=True)
    ai_enhanced_cv_content = models.JSONField(null=True, blank=True)

    # Enhanced PDF.
    enhanced_cv = models.CharField(max_length=500, blank=True)
    enhanced_cv_hash = models.CharField(max_length=64, blank=True)
    pending_render_hash = models.CharField(
        max_length=64, blank=True, help_text="Set while a re-render is queued."
    )
    pdf_regeneration_error = models.TextField(blank=True)

    # Rewrite (pipeline.md §10).
    rewrite_status = models.CharField(
        max_length=12, choices=RewriteStatus.choices, default=RewriteStatus.IDLE
    )
    rewrite_task_id = models.UUIDField(null=True, blank=True)
    rewrite_instruction = models.TextField(blank=True)
    rewrite_failure_reason = models.TextField(blank=True)

    # Geo (imports-and-geo.md §6).
    latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    geo_precision = models.CharField(max_length=10, blank=True)
    geo_matched = models.CharField(max_length=255, blank=True)
    geocoded_at = models.DateTimeField(null=True, blank=True)

    # E-mail (outreach app writes these).
    availability_email_sent_at = models.DateTimeField(null=True, blank=True)
    last_contacted_at = models.DateTimeField(null=True, blank=True)
    contacts_emailed_count = models.PositiveIntegerField(default=0)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=Q(email__isnull=False), name="candidate_email_ci_unique"
            )
        ]
        indexes = [
            models.Index(fields=["batch", "processing_stage"], name="candidate_batch_stage"),
            models.Index(fields=["processing_stage", "stage_updated_at"], name="candidate_stage_age"),
        ]

    def __str__(self):
        return self.name or self.original_filename or str(self.id)

    @property
    def ai_processing_status(self) -> str:
        return AI_STATUS_BY_STAGE[self.processing_stage]
