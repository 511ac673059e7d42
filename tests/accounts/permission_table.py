"""Who may call each route of the project (api.md §1.2). ``test_permission_table.py`` walks the WHOLE URL
configuration and fails for any route without an entry here, and for entries that match no route.

Adding an endpoint? Add one line: route name (``"namespace:name"``) or, for unnamed routes, the full path
pattern as Django prints it (``"api/files/<str:token>/"``) → one of the access classes below. Then the test
checks, for every HTTP method the view implements, with empty bodies:

- ``public``        anyone, credentials ignored: anonymous with a garbage cookie is neither 401 nor 403
- ``authenticated`` anonymous → 401; an active non-operator account passes (OPTIONS)
- ``operator``      anonymous → 401; non-operator → 403; operator (is_staff) passes (OPTIONS)
- ``superuser``     anonymous → 401; non-operator and operator → 403; superuser passes (OPTIONS)
- ``signed-token``  the token in the path decides: an invalid one is 403 for everyone, never 401
- ``provider``      signature-verified webhooks: unsigned requests are 403 for everyone, never 401

If a route needs a specific sample path (the test fills path converters with sample values and checks the
result resolves back to the same view), add it to ``SAMPLE_PATHS``.
"""

PUBLIC = "public"
AUTHENTICATED = "authenticated"
OPERATOR = "operator"
SUPERUSER = "superuser"
SIGNED_TOKEN = "signed-token"
PROVIDER = "provider"
ACCESS_CLASSES = {PUBLIC, AUTHENTICATED, OPERATOR, SUPERUSER, SIGNED_TOKEN, PROVIDER}

ACCESS: dict[str, str] = {
    # platform
    "health": PUBLIC,
    "signed-file": SIGNED_TOKEN,
    "attribution": PUBLIC,
    "schema": OPERATOR,  # public only with API_DOCS_PUBLIC (off in tests, as in production)
    "swagger-ui": OPERATOR,
    "redoc": OPERATOR,
    # accounts (api.md §2)
    "accounts:register": SUPERUSER,  # public with ALLOW_SIGNUP=true (tests/accounts/test_register.py)
    "accounts:login": PUBLIC,
    "accounts:logout": PUBLIC,  # needs only the refresh cookie
    "accounts:token-refresh": PUBLIC,
    "accounts:me": AUTHENTICATED,
    "accounts:profile-update": AUTHENTICATED,
    "accounts:password-update": AUTHENTICATED,
    "accounts:forgot-password": PUBLIC,
    "accounts:verify-otp": PUBLIC,
    "accounts:reset-password": PUBLIC,
    "accounts:dashboard": OPERATOR,
    "accounts:activity": OPERATOR,
    "accounts:activity-mark-read": OPERATOR,
    # candidates and batches (api.md §3): all operator
    "candidates:list": OPERATOR,
    "candidates:upload": OPERATOR,
    "candidates:detail": OPERATOR,
    "candidates:update": OPERATOR,
    "candidates:delete": OPERATOR,
    "candidates:retry": OPERATOR,
    "candidates:rewrite": OPERATOR,
    "candidates:rewrite-status": OPERATOR,
    "candidates:batch-list": OPERATOR,
    "candidates:batch-detail": OPERATOR,
    "candidates:batch-delete": OPERATOR,
    "candidates:batch-retry-failed": OPERATOR,
    "nearby:organizations": OPERATOR,
    "nearby:contacts": OPERATOR,
    # organisations and contacts (api.md §4): all operator
    "organizations:list": OPERATOR,
    "organizations:detail": OPERATOR,
    "organizations:contacts": OPERATOR,
    "organizations:contact-list": OPERATOR,
    "organizations:contact-detail": OPERATOR,
    "organizations:import": OPERATOR,
    "organizations:import-contacts": OPERATOR,
    "organizations:import-status": OPERATOR,
    "organizations:import-rejects": OPERATOR,
    # outreach (api.md §5)
    "outreach-send-to-contacts": OPERATOR,
    "outreach-send-status": OPERATOR,
    "outreach-history": OPERATOR,
    "outreach:unsubscribe": PUBLIC,  # the signed token decides; unknown token → 404
    "outreach:delivery-events": PROVIDER,
    "outreach:suppression-list": OPERATOR,
    "outreach:suppression-detail": OPERATOR,
}

# Route key → concrete path to request, for routes whose converters need a special sample value.
SAMPLE_PATHS: dict[str, str] = {}

# Whole URL namespaces left out of the walk, with the reason.
EXCLUDED_NAMESPACES = {
    "admin": "Django admin: session login and its own staff/superuser checks (tests/platform)",
}
