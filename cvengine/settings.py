"""All configuration, read from the environment in this one module.

Embedded default (no variables set): SQLite in WAL mode, Celery on kombu's filesystem transport, local file
storage with signed download links, an outbox e-mail backend, offline extraction and geocoding, all data under
``CVENGINE_HOME`` (``./var``). Production: the same code with DATABASE_URL, CELERY_BROKER_URL, STORAGE_BACKEND=s3,
EMAIL_PROVIDER and AI_* set. See README.md and .env.example.
"""

import secrets
import warnings
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

CVENGINE_HOME = Path(env.str("CVENGINE_HOME", default=str(BASE_DIR / "var"))).resolve()

DEBUG = env.bool("DEBUG", default=False)
TESTING = env.bool("CVENGINE_TESTING", default=False)


def _secret_key() -> str:
    key = env.str("SECRET_KEY", default="")
    if key:
        if not DEBUG and len(key) < 32:
            raise ImproperlyConfigured("SECRET_KEY must be at least 32 characters long when DEBUG is off.")
        return key
    if not DEBUG and not TESTING:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set SECRET_KEY (50+ random characters) or run with DEBUG=true "
            "(make run does) to use a key generated under CVENGINE_HOME."
        )
    # Embedded/development: one random key per data directory, so sessions survive restarts.
    path = CVENGINE_HOME / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = env.bool("USE_X_FORWARDED_HOST", default=False)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework_simplejwt.token_blacklist",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "cvengine",
    "accounts",
    "candidates",
    "organizations",
    "outreach",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cvengine.middleware.TrailingSlashMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
APPEND_SLASH = False  # TrailingSlashMiddleware redirects with 301 (GET/HEAD) or 308 (body kept).

ROOT_URLCONF = "cvengine.urls"
WSGI_APPLICATION = "cvengine.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- database ----------------------------------------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{CVENGINE_HOME / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while a worker writes; IMMEDIATE avoids lock-upgrade deadlocks.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=wal; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 30,
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("DB_CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- cache (throttle counters, health result) --------------------------------------------------------------
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://cvengine")}
CACHES["default"]["KEY_PREFIX"] = env.str("CACHE_KEY_PREFIX", default="cvengine")

# --- auth ----------------------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

ALLOW_SIGNUP = env.bool("ALLOW_SIGNUP", default=False)
JWT_ACCESS_TTL = env.int("JWT_ACCESS_TTL", default=3600)
JWT_REFRESH_TTL = env.int("JWT_REFRESH_TTL", default=7 * 24 * 3600)
AUTH_COOKIE_SECURE = env.bool("AUTH_COOKIE_SECURE", default=not DEBUG)
AUTH_COOKIE_SAMESITE = env.str("AUTH_COOKIE_SAMESITE", default="Lax")
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
CORS_ALLOWED_ORIGINS = env.list("CORS_ALLOWED_ORIGINS", default=[])
CSRF_REQUIRE_ORIGIN = env.bool("CSRF_REQUIRE_ORIGIN", default=False)
if AUTH_COOKIE_SAMESITE not in ("Lax", "Strict", "None"):
    raise ImproperlyConfigured("AUTH_COOKIE_SAMESITE must be Lax, Strict or None.")
if AUTH_COOKIE_SAMESITE == "None" and not (AUTH_COOKIE_SECURE and CSRF_TRUSTED_ORIGINS):
    raise ImproperlyConfigured(
        "AUTH_COOKIE_SAMESITE=None needs AUTH_COOKIE_SECURE=true and CSRF_TRUSTED_ORIGINS."
    )

PASSWORD_RESET_OTP_PEPPER = env.str("PASSWORD_RESET_OTP_PEPPER", default="")
if not PASSWORD_RESET_OTP_PEPPER:
    if not (DEBUG or TESTING):
        raise ImproperlyConfigured(
            "PASSWORD_RESET_OTP_PEPPER must be set (32+ random characters) when DEBUG is off."
        )
    PASSWORD_RESET_OTP_PEPPER = SECRET_KEY + ":otp"
PASSWORD_RESET_TOKEN_TTL = env.int("PASSWORD_RESET_TOKEN_TTL", default=600)
# --- accounts: throttles, activity log (owned by the accounts app) ---------------------------------------------
# Rate limits (api.md §1.5) as scope → (requests, window seconds); counters live in the cache (CACHE_URL).
ACCOUNTS_THROTTLES = {
    "login_ip": (20, 600),
    "login_account_failures": (5, 900),  # failed attempts; a successful login resets the counter
    "register_ip": (5, 3600),  # only while ALLOW_SIGNUP is on
    "token_refresh_ip": (60, 60),
    "forgot_password_ip": (10, 3600),
    "forgot_password_account": (5, 3600),
    "verify_otp_ip": (20, 600),
    "reset_password_ip": (10, 600),
    "password_update_account_failures": (5, 900),  # wrong old_password
    "unsubscribe_ip": (30, 60),
}
PASSWORD_RESET_OTP_TTL = env.int("PASSWORD_RESET_OTP_TTL", default=600)
PASSWORD_RESET_OTP_COOLDOWN = 60  # seconds between two codes for one e-mail
PASSWORD_RESET_OTP_MAX_ATTEMPTS = 5  # per issued code; then it is destroyed
PROFILE_PIC_MAX_BYTES = 5 * 1024 * 1024
PROFILE_PIC_MAX_SIDE = 1024  # stored pictures are downscaled to fit this square
ACTIVITY_RETENTION_DAYS = env.int("ACTIVITY_RETENTION_DAYS", default=90)
ACTIVITY_MAX_ENTRIES = env.int("ACTIVITY_MAX_ENTRIES", default=1000)  # 0 = no cap, age only
# --- end accounts ----------------------------------------------------------------------------------------------

SIMPLE_JWT = {
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_ACCESS_TTL),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=JWT_REFRESH_TTL),
    "ROTATE_REFRESH_TOKENS": True,
    "BLACKLIST_AFTER_ROTATION": True,
    "UPDATE_LAST_LOGIN": False,
    "ALGORITHM": "HS256",
    "SIGNING_KEY": env.str("JWT_SIGNING_KEY", default=SECRET_KEY),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
}

# --- REST framework and API docs ---------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["accounts.authentication.CookieJWTAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["cvengine.permissions.IsOperator"],
    "DEFAULT_PAGINATION_CLASS": "cvengine.api.EnvelopePagination",
    "PAGE_SIZE": 20,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "cvengine.api.exception_handler",
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DATETIME_FORMAT": "iso-8601",
    "COERCE_DECIMAL_TO_STRING": True,
}
API_DOCS_PUBLIC = env.bool("API_DOCS_PUBLIC", default=DEBUG)
SPECTACULAR_SETTINGS = {
    "TITLE": "CV Engine API",
    "DESCRIPTION": "CV automation backend for education recruitment. Authenticate with the login endpoint "
    "(HttpOnly cookies) or send `Authorization: Bearer <access token>`.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api/",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "cvengine.schema.add_convention_responses",  # api.md §1: 400/401/403/415, invalid page
    ],
}

# --- i18n / time -----------------------------------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = True
USE_TZ = True

# --- static files ----------------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(CVENGINE_HOME / "static")))
WHITENOISE_USE_FINDERS = DEBUG or TESTING

# --- object storage ------------------------------------------------------------------------------------------
STORAGE_BACKEND = env.str("STORAGE_BACKEND", default="local")
FILE_URL_TTL_SECONDS = env.int("FILE_URL_TTL_SECONDS", default=900)
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(CVENGINE_HOME / "media")))
if STORAGE_BACKEND == "local":
    _default_storage = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        # No base_url: files are never served directly, only through signed /api/files/<token>/ links.
        "OPTIONS": {
            "location": str(MEDIA_ROOT),
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
            "allow_overwrite": True,  # keys are content-addressed: saving the same key again is idempotent
        },
    }
elif STORAGE_BACKEND == "s3":
    STORAGE_BUCKET = env.str("STORAGE_BUCKET", default="")
    STORAGE_ENDPOINT = env.str("STORAGE_ENDPOINT", default="")  # what workers and web use (internal)
    STORAGE_PUBLIC_ENDPOINT = env.str(
        "STORAGE_PUBLIC_ENDPOINT", default=STORAGE_ENDPOINT
    )  # what browsers use
    STORAGE_ACCESS_KEY = env.str("STORAGE_ACCESS_KEY", default="")
    STORAGE_SECRET_KEY = env.str("STORAGE_SECRET_KEY", default="")
    STORAGE_REGION = env.str("STORAGE_REGION", default="us-east-1")
    STORAGE_ADDRESSING_STYLE = env.str("STORAGE_ADDRESSING_STYLE", default="path")
    if not STORAGE_BUCKET:
        raise ImproperlyConfigured("STORAGE_BACKEND=s3 needs STORAGE_BUCKET.")
    _default_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": STORAGE_BUCKET,
            "endpoint_url": STORAGE_ENDPOINT or None,
            "access_key": STORAGE_ACCESS_KEY or None,
            "secret_key": STORAGE_SECRET_KEY or None,
            "region_name": STORAGE_REGION,
            "addressing_style": STORAGE_ADDRESSING_STYLE,
            "signature_version": "s3v4",
            "default_acl": None,
            "querystring_auth": True,
            "querystring_expire": FILE_URL_TTL_SECONDS,
            "file_overwrite": True,
            "object_parameters": {"CacheControl": "private, max-age=0"},
        },
    }
else:
    raise ImproperlyConfigured("STORAGE_BACKEND must be 'local' or 's3'.")
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG or TESTING
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024  # larger uploads spool to disk, never held in memory
FILE_UPLOAD_TEMP_DIR = env.str("FILE_UPLOAD_TEMP_DIR", default=None)
# One over the upload limit, so the upload view can answer "At most N files" itself; far beyond it Django stops
# parsing early (TooManyFilesSent), which the view reports with the same message.
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("UPLOAD_MAX_FILES", default=1000) + 1

# --- Celery --------------------------------------------------------------------------------------------------
_broker_dir = CVENGINE_HOME / "broker"
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
# A task whose worker died is re-delivered once its visibility timeout passes (2 h: longer than any task).
BROKER_VISIBILITY_TIMEOUT = env.int("BROKER_VISIBILITY_TIMEOUT", default=7200)
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT}
if BROKER_VISIBILITY_TIMEOUT < 600:  # short timeouts (fault tests): sweep for abandoned messages often too
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        unacked_restore_interval=max(1, BROKER_VISIBILITY_TIMEOUT // 5), unacked_restore_throttle=1
    )
if env.str("CELERY_BROKER_KEYPREFIX", default=""):  # several deployments (or test runs) on one Redis
    CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = env.str("CELERY_BROKER_KEYPREFIX")
if CELERY_BROKER_URL.startswith("filesystem://"):
    for _sub in ("queue", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS.update(
        # exchange tables: kombu's default is ./control, in whatever directory the process started
        control_folder=str(_broker_dir / "control"),
        data_folder_in=str(_broker_dir / "queue"),
        data_folder_out=str(_broker_dir / "queue"),
        processed_folder=str(_broker_dir / "processed"),
        store_processed=False,
    )
CELERY_BEAT_SCHEDULE_FILENAME = str(CVENGINE_HOME / "celerybeat-schedule")
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=2)

# --- e-mail ----------------------------------------------------------------------------------------------------
EMAIL_PROVIDER = env.str("EMAIL_PROVIDER", default="outbox")
_email_backends = {
    "outbox": "outreach.backends.OutboxBackend",
    "console": "django.core.mail.backends.console.EmailBackend",
    "smtp": "django.core.mail.backends.smtp.EmailBackend",
    "locmem": "django.core.mail.backends.locmem.EmailBackend",
    "sendgrid": "anymail.backends.sendgrid.EmailBackend",
}
if EMAIL_PROVIDER in _email_backends:
    EMAIL_BACKEND = _email_backends[EMAIL_PROVIDER]
elif EMAIL_PROVIDER.startswith("anymail:"):  # any anymail ESP, e.g. anymail:mailgun
    EMAIL_BACKEND = f"anymail.backends.{EMAIL_PROVIDER.split(':', 1)[1]}.EmailBackend"
else:
    raise ImproperlyConfigured(
        "EMAIL_PROVIDER must be outbox, console, smtp, locmem, sendgrid or anymail:<esp>."
    )
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env.str("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env.str("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
EMAIL_USE_SSL = env.bool("EMAIL_USE_SSL", default=False)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="CV Engine <no-reply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_REPLY_TO = env.list("EMAIL_REPLY_TO", default=[])
ANYMAIL = {
    "SENDGRID_API_KEY": env.str("SENDGRID_API_KEY", default=""),
    "SENDGRID_API_URL": env.str("SENDGRID_API_URL", default="https://api.sendgrid.com/v3/"),
    "IGNORE_UNSUPPORTED_FEATURES": False,
}
# An anymail ESP other than SendGrid posts its delivery events to /api/outreach/events/<esp>/ (anymail's tracking
# webhook, mounted only with this secret: HTTP basic auth "user:password", carried in the webhook URL the ESP calls).
if _anymail_webhook_secret := env.str("ANYMAIL_WEBHOOK_SECRET", default=""):
    _user, _, _password = _anymail_webhook_secret.partition(":")
    if not _user or len(_password) < 20:
        raise ImproperlyConfigured(
            "ANYMAIL_WEBHOOK_SECRET must be 'user:password' with a random password (≥ 20)."
        )
    ANYMAIL["WEBHOOK_SECRET"] = _anymail_webhook_secret
# Anymail warns on every connection that SendGrid is no longer "officially supported"; it works and is tested.
warnings.filterwarnings("ignore", message=r"django-anymail has dropped official support for SendGrid")
if EMAIL_PROVIDER == "sendgrid" and not ANYMAIL["SENDGRID_API_KEY"]:
    raise ImproperlyConfigured("EMAIL_PROVIDER=sendgrid needs SENDGRID_API_KEY.")

# --- outreach: availability and school e-mails, unsubscribe, provider webhooks (owned by the outreach app) --------
OUTREACH_SENDING_ENABLED = env.bool("OUTREACH_SENDING_ENABLED", default=True)  # off → 503 email_unavailable
OUTREACH_MAX_CONTACTS = env.int("OUTREACH_MAX_CONTACTS", default=1000)
OUTREACH_BATCH_SIZE = env.int("OUTREACH_BATCH_SIZE", default=1000)  # recipients per ESP API call
OUTREACH_MESSAGES_PER_CONNECTION = env.int("OUTREACH_MESSAGES_PER_CONNECTION", default=100)  # SMTP
EMAIL_RATE_LIMIT = env.float("EMAIL_RATE_LIMIT", default=10.0)  # provider calls per second
OUTREACH_CLOSING_TEXT = env.str(
    "OUTREACH_CLOSING_TEXT",
    default="If this candidate could help your school, simply reply to this e-mail and we will arrange a call "
    "or an interview.",
)
# EMAIL_SIGNATURE empty → "Kind regards,"; AGENCY_NAME and AGENCY_CONTACT_LINE follow it in every e-mail.
EMAIL_SIGNATURE = env.str("EMAIL_SIGNATURE", default="", multiline=True)
EMAIL_LEGAL_FOOTER = env.str(
    "EMAIL_LEGAL_FOOTER",
    default="You are receiving this e-mail because your address is listed as a school contact. "
    "We only send details of candidates who may suit your school.",
    multiline=True,
)
OUTREACH_ATTACH_PHOTO = env.bool("OUTREACH_ATTACH_PHOTO", default=False)
AVAILABILITY_EMAIL_ENABLED = env.bool("AVAILABILITY_EMAIL_ENABLED", default=True)
AVAILABILITY_EMAIL_SUBJECT = env.str(
    "AVAILABILITY_EMAIL_SUBJECT", default="Your CV is ready: are you available for school roles?"
)
EMAIL_WEBHOOK_VERIFIER = env.str("EMAIL_WEBHOOK_VERIFIER", default="sendgrid")
EMAIL_WEBHOOK_PUBLIC_KEY = env.str("EMAIL_WEBHOOK_PUBLIC_KEY", default="", multiline=True)
EMAIL_WEBHOOK_SECRET = env.str("EMAIL_WEBHOOK_SECRET", default="")
EMAIL_WEBHOOK_MAX_AGE = env.int("EMAIL_WEBHOOK_MAX_AGE", default=300)  # seconds; older signed requests → 403
if EMAIL_WEBHOOK_VERIFIER not in ("sendgrid", "hmac"):
    raise ImproperlyConfigured("EMAIL_WEBHOOK_VERIFIER must be sendgrid or hmac.")
if EMAIL_WEBHOOK_SECRET and len(EMAIL_WEBHOOK_SECRET) < 32:
    raise ImproperlyConfigured("EMAIL_WEBHOOK_SECRET must be at least 32 characters long.")
if EMAIL_WEBHOOK_PUBLIC_KEY:
    from outreach.webhook_keys import load_public_key  # (cryptography only; no Django models)

    try:
        load_public_key(EMAIL_WEBHOOK_PUBLIC_KEY)
    except ValueError as _exc:
        raise ImproperlyConfigured(f"EMAIL_WEBHOOK_PUBLIC_KEY: {_exc}") from None
if not 1 <= OUTREACH_MAX_CONTACTS <= 1000 or not 1 <= OUTREACH_BATCH_SIZE <= 1000:
    raise ImproperlyConfigured("OUTREACH_MAX_CONTACTS and OUTREACH_BATCH_SIZE must be between 1 and 1000.")
if OUTREACH_MESSAGES_PER_CONNECTION < 1 or EMAIL_RATE_LIMIT <= 0:
    raise ImproperlyConfigured("OUTREACH_MESSAGES_PER_CONNECTION and EMAIL_RATE_LIMIT must be positive.")
# --- end outreach ----------------------------------------------------------------------------------------------
AGENCY_NAME = env.str("AGENCY_NAME", default="CV Engine Recruitment")
AGENCY_CONTACT_LINE = env.str("AGENCY_CONTACT_LINE", default="")
# Absolute base for links in e-mails and local signed file links; embedded default follows make run's PORT.
PUBLIC_BASE_URL = env.str(
    "PUBLIC_BASE_URL", default=f"http://127.0.0.1:{env.int('PORT', default=8000)}"
).rstrip("/")

# --- CV pipeline -----------------------------------------------------------------------------------------------
UPLOAD_MAX_FILES = env.int("UPLOAD_MAX_FILES", default=1000)
UPLOAD_MAX_FILE_BYTES = env.int("UPLOAD_MAX_FILE_BYTES", default=10 * 1024 * 1024)
UPLOAD_MAX_REQUEST_BYTES = env.int("UPLOAD_MAX_REQUEST_BYTES", default=1024**3)
PROCESSING_STUCK_AFTER_SECONDS = env.int("PROCESSING_STUCK_AFTER_SECONDS", default=1800)
OCR_ENABLED = env.bool("OCR_ENABLED", default=True)  # used only when the tesseract binary is installed
# Enhanced-CV branding: all of it from settings, never hard-coded people or addresses.
CV_LOGO_PATH = env.str("CV_LOGO_PATH", default="") or None
CV_ACCENT_COLOUR = env.str("CV_ACCENT_COLOUR", default="#1F4E79")
CV_FOOTER_TEXT = env.str("CV_FOOTER_TEXT", default="")

# --- geocoding -------------------------------------------------------------------------------------------------
GEO_DATA_DIR = Path(env.str("GEO_DATA_DIR", default=str(CVENGINE_HOME / "geodata")))
GEO_INCLUDE_NI = env.bool("GEO_INCLUDE_NI", default=True)
GEO_MAX_RADIUS_KM = env.float("GEO_MAX_RADIUS_KM", default=200.0)
GEO_ONLINE_ENABLED = env.bool("GEO_ONLINE_ENABLED", default=False)
# Optional Nominatim fallback (imports-and-geo.md §6 step 5): never inside an HTTP request, ≤ 1 request/s across
# all workers (a lock in the shared cache; a lock file when the cache is per-process), results and misses cached.
NOMINATIM_DOMAIN = env.str("NOMINATIM_DOMAIN", default="nominatim.openstreetmap.org")
NOMINATIM_SCHEME = env.str("NOMINATIM_SCHEME", default="https")
NOMINATIM_USER_AGENT = env.str("NOMINATIM_USER_AGENT", default="")
NOMINATIM_TIMEOUT_SECONDS = env.float("NOMINATIM_TIMEOUT_SECONDS", default=10.0)
GEO_CACHE_TTL_DAYS = env.int("GEO_CACHE_TTL_DAYS", default=180)
GEO_CACHE_MISS_TTL_DAYS = env.int("GEO_CACHE_MISS_TTL_DAYS", default=7)
if GEO_ONLINE_ENABLED and not NOMINATIM_USER_AGENT.strip():
    raise ImproperlyConfigured(
        "GEO_ONLINE_ENABLED=true needs NOMINATIM_USER_AGENT (an agent naming this deployment and a contact)."
    )
if GEO_ONLINE_ENABLED and NOMINATIM_SCHEME not in ("http", "https"):
    raise ImproperlyConfigured("NOMINATIM_SCHEME must be http or https.")
# Spreadsheet imports of schools and contacts (imports-and-geo.md §1).
IMPORT_MAX_FILE_BYTES = env.int("IMPORT_MAX_FILE_BYTES", default=50 * 1024 * 1024)
IMPORT_FILE_RETENTION_DAYS = env.int("IMPORT_FILE_RETENTION_DAYS", default=7)
IMPORT_CHUNK_ROWS = env.int("IMPORT_CHUNK_ROWS", default=1000)
IMPORT_STALE_AFTER_SECONDS = env.int("IMPORT_STALE_AFTER_SECONDS", default=3 * 3600)  # a lost worker's job
if IMPORT_CHUNK_ROWS < 1 or IMPORT_MAX_FILE_BYTES < 1:
    raise ImproperlyConfigured("IMPORT_CHUNK_ROWS and IMPORT_MAX_FILE_BYTES must be positive.")

# --- extraction ------------------------------------------------------------------------------------------------
AI_PROVIDER = env.str("AI_PROVIDER", default="offline")
OPENAI_BASE_URL = env.str("OPENAI_BASE_URL", default="")
OPENAI_API_KEY = env.str("OPENAI_API_KEY", default="not-needed")
AI_MODEL = env.str("AI_MODEL", default="")
AI_BASE_URL = env.str("AI_BASE_URL", default="").rstrip("/")
AI_SERVICE_TOKEN = env.str("AI_SERVICE_TOKEN", default="")
if AI_PROVIDER not in ("offline", "llm", "remote"):
    raise ImproperlyConfigured("AI_PROVIDER must be offline, llm or remote.")
if AI_PROVIDER == "llm" and not (OPENAI_BASE_URL and AI_MODEL):
    raise ImproperlyConfigured("AI_PROVIDER=llm needs OPENAI_BASE_URL and AI_MODEL.")
if AI_PROVIDER == "remote" and not (AI_BASE_URL and AI_SERVICE_TOKEN):
    raise ImproperlyConfigured("AI_PROVIDER=remote needs AI_BASE_URL and AI_SERVICE_TOKEN.")
# LLM provider (core/extraction/llm.py): first rung of the structured-output ladder, limits per worker process.
AI_STRUCTURED_MODE = env.str("AI_STRUCTURED_MODE", default="json_schema")
AI_TIMEOUT_SECONDS = env.float("AI_TIMEOUT_SECONDS", default=120.0)
AI_MAX_OUTPUT_TOKENS = env.int("AI_MAX_OUTPUT_TOKENS", default=4000)
AI_RATE_LIMIT = env.int("AI_RATE_LIMIT", default=20)  # chat-completions calls per minute per worker process
AI_MAX_CONCURRENCY = env.int("AI_MAX_CONCURRENCY", default=4)  # simultaneous calls per worker process
AI_FALLBACK_TO_OFFLINE = env.bool("AI_FALLBACK_TO_OFFLINE", default=False)
AI_CACHE_TTL_SECONDS = env.int("AI_CACHE_TTL_SECONDS", default=30 * 24 * 3600)  # validated LLM answers
# Remote provider (candidates/remote.py): polling of the AI service.
AI_POLL_INTERVAL_SECONDS = env.int("AI_POLL_INTERVAL_SECONDS", default=10)
AI_POLL_MAX_WAIT_SECONDS = env.int("AI_POLL_MAX_WAIT_SECONDS", default=900)
if AI_STRUCTURED_MODE not in ("json_schema", "json_object", "prompt"):
    raise ImproperlyConfigured("AI_STRUCTURED_MODE must be json_schema, json_object or prompt.")
if AI_TIMEOUT_SECONDS <= 0 or AI_MAX_OUTPUT_TOKENS < 256 or AI_RATE_LIMIT < 1 or AI_MAX_CONCURRENCY < 1:
    raise ImproperlyConfigured(
        "AI_TIMEOUT_SECONDS must be positive, AI_MAX_OUTPUT_TOKENS ≥ 256, AI_RATE_LIMIT and AI_MAX_CONCURRENCY ≥ 1."
    )
if not 1 <= AI_POLL_INTERVAL_SECONDS <= 60 or AI_POLL_MAX_WAIT_SECONDS < AI_POLL_INTERVAL_SECONDS:
    raise ImproperlyConfigured(
        "AI_POLL_INTERVAL_SECONDS must be 1–60 and AI_POLL_MAX_WAIT_SECONDS at least AI_POLL_INTERVAL_SECONDS."
    )
for _name, _url in (("OPENAI_BASE_URL", OPENAI_BASE_URL), ("AI_BASE_URL", AI_BASE_URL)):
    if _url and not _url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(f"{_name} must be an http:// or https:// URL.")

# --- logging: personal data never at info level (see cvengine/logging.py) -----------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact": {"()": "cvengine.logging.RedactPersonalData"}},
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # Rendering libraries narrate every step at INFO; only their problems are worth a line.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}

# --- security headers --------------------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = AUTH_COOKIE_SECURE
CSRF_COOKIE_SECURE = AUTH_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
