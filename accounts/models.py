import uuid

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email, password=None, **fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).strip().lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email, password=None, **fields):
        fields.update(role=User.Role.SUPERUSER, is_staff=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """An operator account. E-mail is the login, stored lower-case and unique case-insensitively."""

    class Role(models.TextChoices):
        SUPERUSER = "superuser", "Superuser"
        NORMALUSER = "normaluser", "Normal user"

    class Gender(models.TextChoices):
        MALE = "male", "Male"
        FEMALE = "female", "Female"
        OTHER = "other", "Other"
        PREFER_NOT_TO_SAY = "prefer_not_to_say", "Prefer not to say"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=100, blank=True)
    last_name = models.CharField(max_length=100, blank=True)
    gender = models.CharField(max_length=20, choices=Gender.choices, blank=True)
    country = models.CharField(max_length=100, blank=True)
    profile_pic = models.CharField(
        max_length=500, blank=True, help_text="Storage key of the profile picture."
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.NORMALUSER)
    is_staff = models.BooleanField(default=False, help_text="Operator access to the API and the admin site.")
    is_active = models.BooleanField(default=True)
    token_version = models.PositiveIntegerField(
        default=0,
        help_text="Bumped to revoke every outstanding token (password change, reset, deactivation).",
    )
    activity_read_before = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Activity entries created up to this moment count as read (mark-all, one row per user).",
    )
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["first_name", "last_name"]

    class Meta:
        ordering = ["email"]
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self):
        return self.email

    @classmethod
    def from_db(cls, db, field_names, values):
        user = super().from_db(db, field_names, values)
        user._loaded_is_active = user.__dict__.get("is_active")
        return user

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        # Django's admin permissions follow the product role.
        self.is_superuser = self.role == self.Role.SUPERUSER
        if self.is_superuser:
            self.is_staff = True
        if getattr(self, "_loaded_is_active", False) and not self.is_active:
            # Deactivation revokes every token, so a later reactivation does not revive old sessions.
            self.token_version += 1
            update_fields = kwargs.get("update_fields")
            if update_fields is not None:
                kwargs["update_fields"] = {*update_fields, "token_version"}
        super().save(*args, **kwargs)
        self._loaded_is_active = self.is_active

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_operator(self) -> bool:
        return self.is_active and (self.is_staff or self.role == self.Role.SUPERUSER)


class PasswordResetOTP(models.Model):
    """A password-reset code request for one e-mail address.

    A row is written for every accepted forgot-password request, whether or not an account exists, so that
    verification behaves identically for unknown addresses. ``otp_hash`` stays empty until the e-mail task
    generates the code for an active account (the code itself never passes through the broker or the database).
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, db_index=True)
    otp_hash = models.CharField(max_length=64, blank=True, help_text="HMAC-SHA256 of the code, peppered.")
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"OTP {self.id}"


class PasswordResetToken(models.Model):
    """Single-use proof of a verified code: required (and consumed) by reset-password."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    email = models.EmailField(max_length=254, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Reset token {self.id}"


class ActivityLog(models.Model):
    """A notification for operators. Related ids are plain UUIDs so entries outlive what they describe."""

    class EventType(models.TextChoices):
        BATCH_UPLOADED = "batch_uploaded", "Batch uploaded"
        BATCH_COMPLETED = "batch_completed", "Batch completed"
        BATCH_FAILED = "batch_failed", "Batch failed"
        CV_PROCESSED = "cv_processed", "CV processed"
        CV_FAILED = "cv_failed", "CV failed"
        EMAILS_SENT = "emails_sent", "E-mails sent"
        CV_REWRITE_COMPLETED = "cv_rewrite_completed", "CV rewrite completed"
        CV_REWRITE_FAILED = "cv_rewrite_failed", "CV rewrite failed"
        ORG_IMPORT_COMPLETED = "org_import_completed", "Organisation import completed"
        CONTACT_IMPORT_COMPLETED = "contact_import_completed", "Contact import completed"
        IMPORT_FAILED = "import_failed", "Import failed"
        OUTREACH_DELIVERY_PROBLEM = "outreach_delivery_problem", "Outreach delivery problem"

    class Severity(models.TextChoices):
        INFO = "info", "Info"
        SUCCESS = "success", "Success"
        WARNING = "warning", "Warning"
        ERROR = "error", "Error"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.INFO)
    title = models.CharField(max_length=255)
    message = models.TextField(blank=True)
    candidate_id = models.UUIDField(null=True, blank=True)
    batch_id = models.UUIDField(null=True, blank=True)
    organization_id = models.UUIDField(null=True, blank=True)
    actor = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["severity", "-created_at"], name="activity_severity_idx"),
            models.Index(fields=["event_type", "-created_at"], name="activity_event_type_idx"),
        ]

    def __str__(self):
        return self.title


class ActivityRead(models.Model):
    """An entry one user marked as read individually (mark-all uses ``User.activity_read_before`` instead)."""

    user = models.ForeignKey("accounts.User", on_delete=models.CASCADE, related_name="+")
    activity = models.ForeignKey(ActivityLog, on_delete=models.CASCADE, related_name="reads")
    read_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "activity"], name="activity_read_once_per_user")
        ]

    def __str__(self):
        return f"{self.user_id} read {self.activity_id}"
