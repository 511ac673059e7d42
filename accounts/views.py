"""Auth and activity endpoints (api.md §2, A1–A10, A12, A13). Thin: validate, call a service, shape the reply."""

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from cvengine.api import EnvelopePagination
from cvengine.permissions import IsAuthenticatedActive, is_superuser

from . import activity, csrf, serializers, services, throttles, tokens
from .authentication import REFRESH_COOKIE, CookieJWTAuthentication, OptionalCookieJWTAuthentication
from .dashboard import dashboard
from .models import ActivityLog

FORGOT_PASSWORD_MESSAGE = (
    "If an active account exists for this email, a verification code has been sent to it."  # noqa: S105
)

# Shared OpenAPI error responses.
E400 = OpenApiResponse(serializers.AuthValidationErrorSerializer, description="Validation errors by field.")
E401 = OpenApiResponse(
    serializers.AuthTokenErrorSerializer, description="Missing, invalid or revoked credentials."
)
E403 = OpenApiResponse(
    serializers.AuthDetailSerializer, description="Wrong caller class or CSRF check failed."
)
E429 = OpenApiResponse(serializers.AuthThrottledSerializer, description="Rate limited; see Retry-After.")


class PublicAPIView(APIView):
    """Public endpoint: credentials are ignored (a stale cookie never causes a 401), but a request that carries
    auth cookies still passes the CSRF rule; ``csrf_always`` applies it regardless (login)."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    csrf_always = False

    def check_permissions(self, request):
        csrf.enforce(request, always=self.csrf_always)
        super().check_permissions(request)


class RegisterPermission(IsAuthenticatedActive):
    """Public while ALLOW_SIGNUP is on; otherwise only a superuser creates accounts."""

    def has_permission(self, request, view):
        return settings.ALLOW_SIGNUP or is_superuser(request.user)


class RegisterView(APIView):
    permission_classes = [RegisterPermission]
    throttle_classes = [throttles.RegisterThrottle]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    def get_authenticators(self):
        # With public sign-up a bad cookie must not cause a 401, yet a signed-in superuser is still recognised.
        if settings.ALLOW_SIGNUP:
            return [OptionalCookieJWTAuthentication()]
        return [CookieJWTAuthentication()]

    @extend_schema(
        tags=["auth"],
        summary="Create an account (public only with ALLOW_SIGNUP, else superuser)",
        request={
            "application/json": serializers.RegisterSerializer,
            "multipart/form-data": serializers.RegisterSerializer,
        },
        responses={201: serializers.UserMessageSerializer, 400: E400, 401: E401, 403: E403, 429: E429},
    )
    def post(self, request):
        serializer = serializers.RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        creator = request.user if is_superuser(request.user) else None
        user = services.register_user(
            email=data["email"],
            password=data["password"],
            first_name=data["first_name"],
            last_name=data["last_name"],
            gender=data.get("gender", ""),
            country=data.get("country", ""),
            picture=data.get("profile_pic"),
            role=data.get("role"),
            is_staff=data.get("is_staff"),
            created_by=creator,
        )
        response = Response(
            {"message": "Registration successful.", "user": serializers.UserProfileSerializer(user).data},
            status=status.HTTP_201_CREATED,
        )
        if creator is None:  # self-registration signs the new user in; a superuser keeps their own session
            tokens.set_auth_cookies(response, tokens.issue_tokens(user))
        return response


class LoginView(PublicAPIView):
    csrf_always = True
    throttle_classes = [throttles.LoginThrottle]

    @extend_schema(
        tags=["auth"],
        summary="Sign in; sets the access_token and refresh_token cookies",
        request=serializers.LoginSerializer,
        responses={
            200: serializers.UserMessageSerializer,
            400: E400,
            401: OpenApiResponse(serializers.AuthErrorSerializer, description="Invalid email or password."),
            403: E403,
            429: E429,
        },
        auth=[],
    )
    def post(self, request):
        serializer = serializers.LoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user, pair = services.login(request, **serializer.validated_data)
        response = Response(
            {"message": "Login successful.", "user": serializers.UserProfileSerializer(user).data}
        )
        tokens.set_auth_cookies(response, pair)
        return response


class LogoutView(PublicAPIView):
    @extend_schema(
        tags=["auth"],
        summary="Sign out (needs only the refresh_token cookie); deletes both cookies",
        request=serializers.LogoutSerializer,
        responses={
            200: serializers.AuthMessageSerializer,
            400: OpenApiResponse(serializers.AuthErrorSerializer, description="No refresh token cookie."),
            403: E403,
        },
        auth=[],
    )
    def post(self, request):
        serializer = serializers.LogoutSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        raw = request.COOKIES.get(REFRESH_COOKIE)
        if not raw:
            response = Response(
                {
                    "detail": "Refresh token not found. You may already be logged out.",
                    "code": "refresh_token_missing",
                },
                status=status.HTTP_400_BAD_REQUEST,
            )
        else:
            services.logout(raw, all_sessions=serializer.validated_data["all_sessions"])
            response = Response({"message": "Logout successful."})
        tokens.delete_auth_cookies(response)
        return response


class TokenRefreshView(PublicAPIView):
    throttle_classes = [throttles.TokenRefreshThrottle]

    def get_authenticate_header(self, request):
        # No authenticators here, so DRF would turn a rejected refresh token into a 403; it is a 401.
        return CookieJWTAuthentication().authenticate_header(request)

    @extend_schema(
        tags=["auth"],
        summary="Rotate the refresh_token cookie and issue a new access_token cookie",
        request=None,
        responses={
            200: serializers.AuthMessageSerializer,
            400: OpenApiResponse(
                serializers.RefreshMissingSerializer, description="No refresh token cookie."
            ),
            401: E401,
            403: E403,
            429: E429,
        },
        auth=[],
    )
    def post(self, request):
        raw = request.COOKIES.get(REFRESH_COOKIE)
        if not raw:
            return Response(
                {"refresh_token": "Refresh token cookie not found. Please log in again."},
                status=status.HTTP_400_BAD_REQUEST,
            )
        _user, pair = services.refresh_session(raw)
        response = Response({"message": "Token refreshed successfully."})
        tokens.set_auth_cookies(response, pair)
        return response


class MeView(APIView):
    permission_classes = [IsAuthenticatedActive]

    @extend_schema(
        tags=["auth"],
        summary="The signed-in user's profile",
        responses={200: serializers.UserProfileSerializer, 401: E401},
    )
    def get(self, request):
        return Response(serializers.UserProfileSerializer(request.user).data)


class ProfileUpdateView(APIView):
    permission_classes = [IsAuthenticatedActive]
    parser_classes = [JSONParser, MultiPartParser, FormParser]

    @extend_schema(
        tags=["auth"],
        summary="Update the signed-in user's profile (partial); profile_pic null removes the picture",
        request={
            "application/json": serializers.ProfileUpdateSerializer,
            "multipart/form-data": serializers.ProfileUpdateSerializer,
        },
        responses={200: serializers.ProfileUpdateResponseSerializer, 400: E400, 401: E401, 403: E403},
    )
    def patch(self, request):
        serializer = serializers.ProfileUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        picture = changes.pop("profile_pic", services.UNSET)
        user = services.update_profile(request.user, changes, picture)
        return Response(
            {"message": "Profile updated successfully.", "data": serializers.UserProfileSerializer(user).data}
        )


class PasswordUpdateView(APIView):
    permission_classes = [IsAuthenticatedActive]

    @extend_schema(
        tags=["auth"],
        summary="Change the password; every other session is revoked and fresh cookies are set",
        request=serializers.PasswordUpdateSerializer,
        responses={200: serializers.AuthMessageSerializer, 400: E400, 401: E401, 403: E403, 429: E429},
    )
    def post(self, request):
        serializer = serializers.PasswordUpdateSerializer(data=request.data, context={"user": request.user})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        pair = services.change_password(request.user, data["old_password"], data["new_password"])
        response = Response({"message": "Password updated successfully."})
        tokens.set_auth_cookies(response, pair)
        return response


class ForgotPasswordView(PublicAPIView):
    throttle_classes = [throttles.ForgotPasswordThrottle]

    def throttled(self, request, wait):
        raise throttles.RateLimited(wait, remaining_requests=0)

    @extend_schema(
        tags=["auth"],
        summary="E-mail a 6-digit reset code (same answer whether or not the account exists)",
        request=serializers.ForgotPasswordSerializer,
        responses={
            200: serializers.ForgotPasswordResponseSerializer,
            400: E400,
            403: E403,
            429: OpenApiResponse(serializers.ForgotPasswordThrottledSerializer, description="Rate limited."),
        },
        auth=[],
    )
    def post(self, request):
        serializer = serializers.ForgotPasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        remaining = services.request_password_reset(serializer.validated_data["email"])
        return Response(
            {
                "detail": FORGOT_PASSWORD_MESSAGE,
                "retry_after": settings.PASSWORD_RESET_OTP_COOLDOWN,
                "remaining_requests": remaining,
            }
        )


class VerifyOTPView(PublicAPIView):
    throttle_classes = [throttles.VerifyOTPThrottle]

    @extend_schema(
        tags=["auth"],
        summary="Exchange the e-mailed code for a single-use reset token",
        request=serializers.VerifyOTPSerializer,
        responses={
            200: serializers.VerifyOTPResponseSerializer,
            400: OpenApiResponse(serializers.OTPErrorSerializer, description="Wrong or expired code."),
            403: OpenApiResponse(
                serializers.AuthErrorSerializer, description="Too many attempts; code destroyed."
            ),
            429: E429,
        },
        auth=[],
    )
    def post(self, request):
        serializer = serializers.VerifyOTPSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        raw, ttl = services.verify_otp(data["email"], data["otp"])
        return Response({"detail": "OTP verified.", "reset_token": raw, "expires_in": ttl})


class ResetPasswordView(PublicAPIView):
    throttle_classes = [throttles.ResetPasswordThrottle]

    @extend_schema(
        tags=["auth"],
        summary="Set a new password with the reset token from verify-otp; revokes every session",
        request=serializers.ResetPasswordSerializer,
        responses={
            200: serializers.AuthDetailSerializer,
            400: OpenApiResponse(
                serializers.AuthErrorSerializer,
                description="Invalid or expired reset token, or password errors.",
            ),
            403: E403,
            429: E429,
        },
        auth=[],
    )
    def post(self, request):
        serializer = serializers.ResetPasswordSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.reset_password(data["email"], data["reset_token"], data["new_password"])
        return Response({"detail": "Password reset successfully. Please log in with your new password."})


class ActivityPagination(EnvelopePagination):
    def get_paginated_response_schema(self, schema):
        envelope = super().get_paginated_response_schema(schema)
        envelope["properties"]["unread_count"] = {"type": "integer"}
        envelope["required"] = [*envelope["required"], "unread_count"]
        return envelope


class ActivityListView(ListAPIView):
    serializer_class = serializers.ActivitySerializer
    pagination_class = ActivityPagination
    filter_backends: list = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation
            return ActivityLog.objects.none()
        query = serializers.ActivityQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return activity.activity_for_user(self.request.user, **query.validated_data)

    @extend_schema(
        tags=["activity"],
        summary="Activity log, newest first, with the caller's read state and unread_count",
        parameters=[serializers.ActivityQuerySerializer],
        responses={200: serializers.ActivitySerializer(many=True), 400: E400, 401: E401, 403: E403},
    )
    def get(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        data = self.get_serializer(page, many=True).data
        return self.paginator.get_paginated_response(data, unread_count=activity.unread_count(request.user))


class ActivityMarkReadView(APIView):
    @extend_schema(
        tags=["activity"],
        summary="Mark the given entries, or all of them, as read for the caller",
        request=serializers.MarkReadSerializer,
        responses={200: serializers.MarkReadResponseSerializer, 400: E400, 401: E401, 403: E403},
    )
    def post(self, request):
        serializer = serializers.MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        updated = activity.mark_read(request.user, serializer.validated_data.get("ids"))
        return Response({"message": f"{updated} notification(s) marked as read.", "updated": updated})


@extend_schema(responses=serializers.DashboardSerializer)
class DashboardView(APIView):
    """Live aggregates for operators (api.md A11), computed in a fixed number of queries."""

    def get(self, request):
        return Response(dashboard())
