"""Request validation and response shapes of the auth and activity endpoints (api.md §1.9, §2)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from cvengine.storage import signed_url

from . import selectors, services
from .activity import MARK_READ_MAX_IDS
from .models import ActivityLog, User


class EmailInputField(serializers.EmailField):
    """E-mail as typed by a person: trimmed and lower-cased (the login is case-insensitive)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 254)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        return selectors.normalise_email(super().to_internal_value(data))


class PasswordField(serializers.CharField):
    def __init__(self, **kwargs):
        kwargs.update(write_only=True, trim_whitespace=False, max_length=128)
        kwargs.setdefault("style", {"input_type": "password"})
        super().__init__(**kwargs)


@extend_schema_field({"type": "string", "format": "binary"})
class ProfilePictureField(serializers.FileField):
    """A JPEG/PNG/WebP upload, checked by content and re-encoded; the value is a ``ProcessedImage``."""

    def to_internal_value(self, data):
        upload = super().to_internal_value(data)
        try:
            return services.process_profile_picture(upload)
        except services.ImageRejected as exc:
            raise serializers.ValidationError(str(exc))


@extend_schema_field(
    {
        "type": "string",
        "pattern": f"^({'|'.join(User.Gender.values)})?$",
        "description": f"One of {', '.join(User.Gender.values)}, or blank.",
    }
)
class GenderField(serializers.ChoiceField):
    """A person's gender. Documented as a pattern, not an enum: drf-spectacular pools enums by field name,
    and schools have a different ``gender`` (boys, girls, mixed) — no name collision in the schema."""

    def __init__(self, **kwargs):
        super().__init__(User.Gender.choices, **kwargs)


# --- responses ------------------------------------------------------------------------------------------------


class UserProfileSerializer(serializers.ModelSerializer):
    full_name = serializers.CharField(read_only=True)
    gender = GenderField(read_only=True)
    profile_pic_url = serializers.SerializerMethodField()

    class Meta:
        model = User
        fields = [
            "id",
            "email",
            "first_name",
            "last_name",
            "full_name",
            "gender",
            "country",
            "profile_pic_url",
            "role",
            "date_joined",
            "updated_at",
            "is_staff",
            "last_login",
        ]
        read_only_fields = fields

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_profile_pic_url(self, user) -> str | None:
        extension = user.profile_pic.rsplit(".", 1)[-1] if user.profile_pic else ""
        return signed_url(user.profile_pic, download_name=f"profile-picture.{extension}")


class AuthMessageSerializer(serializers.Serializer):
    message = serializers.CharField()


class AuthDetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class AuthErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()


class AuthTokenErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField(required=False)
    messages = serializers.ListField(child=serializers.DictField(), required=False)


class AuthThrottledSerializer(serializers.Serializer):
    detail = serializers.CharField()
    retry_after = serializers.IntegerField()


class ForgotPasswordThrottledSerializer(AuthThrottledSerializer):
    remaining_requests = serializers.IntegerField()


class AuthValidationErrorSerializer(serializers.Serializer):
    """Field name → list of messages (``non_field_errors`` for the whole body)."""

    non_field_errors = serializers.ListField(child=serializers.CharField(), required=False)


class UserMessageSerializer(serializers.Serializer):
    message = serializers.CharField()
    user = UserProfileSerializer()


class ProfileUpdateResponseSerializer(serializers.Serializer):
    message = serializers.CharField()
    data = UserProfileSerializer()


class RefreshMissingSerializer(serializers.Serializer):
    refresh_token = serializers.CharField()


class ForgotPasswordResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    retry_after = serializers.IntegerField()
    remaining_requests = serializers.IntegerField()


class VerifyOTPResponseSerializer(serializers.Serializer):
    detail = serializers.CharField()
    reset_token = serializers.CharField()
    expires_in = serializers.IntegerField()


class OTPErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.CharField()
    attempts_remaining = serializers.IntegerField()


# --- requests -------------------------------------------------------------------------------------------------


class RegisterSerializer(serializers.Serializer):
    email = EmailInputField()
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    gender = GenderField(required=False, allow_blank=True)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    profile_pic = ProfilePictureField(required=False, allow_null=True)
    password = PasswordField()
    password_confirm = PasswordField()
    role = serializers.ChoiceField(
        User.Role.choices, required=False, help_text="Superuser callers only (default normaluser)."
    )
    is_staff = serializers.BooleanField(
        required=False, default=None, allow_null=True, help_text="Superuser callers only (default true)."
    )

    def validate_email(self, value):
        if selectors.email_taken(value):
            raise serializers.ValidationError(services.DUPLICATE_EMAIL)
        return value

    def validate(self, attrs):
        if attrs["password"] != attrs["password_confirm"]:
            raise serializers.ValidationError({"password": ["Passwords do not match."]})
        candidate = User(email=attrs["email"], first_name=attrs["first_name"], last_name=attrs["last_name"])
        services.check_password_rules(attrs["password"], candidate, field="password")
        return attrs


class LoginSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False, style={"input_type": "password"})

    def validate_email(self, value):
        return selectors.normalise_email(value)


class LogoutSerializer(serializers.Serializer):
    all_sessions = serializers.BooleanField(required=False, default=False)


class ProfileUpdateSerializer(serializers.Serializer):
    """Partial update; ``email``, ``role`` and ``is_staff`` are not fields here, so they are ignored."""

    first_name = serializers.CharField(max_length=100, required=False)
    last_name = serializers.CharField(max_length=100, required=False)
    gender = GenderField(required=False, allow_blank=True)
    country = serializers.CharField(max_length=100, required=False, allow_blank=True)
    profile_pic = ProfilePictureField(
        required=False, allow_null=True, help_text="A JPEG/PNG/WebP image (≤ 5 MB), or null to remove."
    )


class PasswordUpdateSerializer(serializers.Serializer):
    old_password = PasswordField()
    new_password = PasswordField()
    new_password_confirm = PasswordField()

    def validate(self, attrs):
        if attrs["new_password"] != attrs["new_password_confirm"]:
            raise serializers.ValidationError({"new_password": ["Passwords do not match."]})
        services.check_password_rules(attrs["new_password"], self.context["user"], field="new_password")
        return attrs


class ForgotPasswordSerializer(serializers.Serializer):
    email = EmailInputField()


class VerifyOTPSerializer(serializers.Serializer):
    email = EmailInputField()
    otp = serializers.CharField(min_length=4, max_length=10)


class ResetPasswordSerializer(serializers.Serializer):
    email = EmailInputField()
    reset_token = serializers.CharField(max_length=200)
    new_password = PasswordField()
    new_password_confirm = PasswordField()

    def validate(self, attrs):
        if attrs["new_password"] != attrs["new_password_confirm"]:
            raise serializers.ValidationError({"new_password": ["Passwords do not match."]})
        return attrs


# --- activity -------------------------------------------------------------------------------------------------


class ActivitySerializer(serializers.ModelSerializer):
    is_read = serializers.BooleanField(read_only=True)
    actor_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = ActivityLog
        fields = [
            "id",
            "event_type",
            "severity",
            "title",
            "message",
            "is_read",
            "candidate_id",
            "batch_id",
            "organization_id",
            "created_at",
            "actor_id",
        ]
        read_only_fields = fields


class TrueFalseField(serializers.ChoiceField):
    """``true`` / ``false`` (any case) → bool; anything else is a 400."""

    def __init__(self, **kwargs):
        super().__init__(["true", "false"], **kwargs)

    def to_internal_value(self, data):
        return super().to_internal_value(str(data).strip().lower()) == "true"


class ActivityQuerySerializer(serializers.Serializer):
    severity = serializers.ChoiceField(ActivityLog.Severity.choices, required=False)
    event_type = serializers.ChoiceField(ActivityLog.EventType.choices, required=False)
    unread = TrueFalseField(required=False, help_text="true: unread only; false: read only.")


class UUIDStringField(serializers.UUIDField):
    """A UUID written as a string (DRF would also take an integer and build a UUID from it)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid", value=data)
        return super().to_internal_value(data)


class MarkReadSerializer(serializers.Serializer):
    ids = serializers.ListField(
        child=UUIDStringField(),
        required=False,
        allow_null=True,
        allow_empty=True,
        max_length=MARK_READ_MAX_IDS,
        help_text="Entries to mark; absent or empty marks everything as read.",
    )


class MarkReadResponseSerializer(serializers.Serializer):
    message = serializers.CharField()
    updated = serializers.IntegerField()


class DashboardSerializer(serializers.Serializer):
    """Response shape of the dashboard (api.md A11); the figures are computed in accounts/dashboard.py."""

    summary = serializers.DictField(child=serializers.FloatField())
    quality = serializers.DictField(child=serializers.IntegerField())
    ai_processing = serializers.DictField(child=serializers.IntegerField())
    availability = serializers.DictField(child=serializers.IntegerField())
    sources = serializers.DictField(child=serializers.IntegerField())
    recent_activity = serializers.DictField(child=serializers.IntegerField())
    organizations = serializers.DictField()
    recent_batches = serializers.ListField(child=serializers.DictField())
    outreach = serializers.DictField(child=serializers.IntegerField())
    attention = serializers.DictField(child=serializers.IntegerField())
