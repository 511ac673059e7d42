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

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        # Django's admin permissions follow the product role.
        self.is_superuser = self.role == self.Role.SUPERUSER
        if self.is_superuser:
            self.is_staff = True
        super().save(*args, **kwargs)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def is_operator(self) -> bool:
        return self.is_active and (self.is_staff or self.role == self.Role.SUPERUSER)
