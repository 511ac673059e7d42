"""JWT authentication from the ``access_token`` HttpOnly cookie, falling back to ``Authorization: Bearer``.

Tokens carry ``tv`` (the user's token version): bumping ``User.token_version`` revokes every outstanding token.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken

ACCESS_COOKIE = "access_token"
REFRESH_COOKIE = "refresh_token"
TOKEN_VERSION_CLAIM = "tv"  # noqa: S105  (not a secret)


class CookieJWTAuthentication(JWTAuthentication):
    def authenticate(self, request):
        header = self.get_header(request)
        raw = request.COOKIES.get(ACCESS_COOKIE) if header is None else self.get_raw_token(header)
        if not raw:
            return None
        validated = self.get_validated_token(raw)
        return self.get_user(validated), validated

    def authenticate_header(self, request):
        return 'Bearer realm="api"'

    def get_user(self, validated_token):
        try:
            user = super().get_user(validated_token)
        except (InvalidToken, AuthenticationFailed):
            raise AuthenticationFailed(_("User not found or inactive."), code="token_invalid")
        if validated_token.get(TOKEN_VERSION_CLAIM) != user.token_version:
            raise AuthenticationFailed(_("Token has been revoked."), code="token_invalid")
        return user
