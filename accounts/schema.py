"""OpenAPI security schemes for CookieJWTAuthentication: the access_token cookie, or a Bearer header."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class CookieJWTScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.CookieJWTAuthentication"
    match_subclasses = True
    priority = 1
    name = ["cookieAuth", "bearerAuth"]

    def get_security_requirement(self, auto_schema):
        return [{"cookieAuth": []}, {"bearerAuth": []}]  # either one (OR)

    def get_security_definition(self, auto_schema):
        return [
            {
                "type": "apiKey",
                "in": "cookie",
                "name": "access_token",
                "description": "HttpOnly cookie set by /api/auth/login/ (browsers send it automatically).",
            },
            {
                "type": "http",
                "scheme": "bearer",
                "bearerFormat": "JWT",
                "description": "The access token from the login response's Set-Cookie, for API clients.",
            },
        ]
