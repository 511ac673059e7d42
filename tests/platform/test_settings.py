"""Production mode is configured from the environment only and refuses unsafe or incomplete settings."""

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.sqlite

BASE = {
    "PATH": os.environ["PATH"],
    "DJANGO_SETTINGS_MODULE": "cvengine.settings",
    "SECRET_KEY": "k" * 50,
    "PASSWORD_RESET_OTP_PEPPER": "p" * 40,
}


def _load(tmp_path, **env):
    merged = {**BASE, "CVENGINE_HOME": str(tmp_path), **env}
    merged = {k: v for k, v in merged.items() if v is not None}
    code = "import django; django.setup(); from django.conf import settings; print(settings.EMAIL_BACKEND)"
    return subprocess.run(
        [sys.executable, "-c", code], env=merged, capture_output=True, text=True, cwd=os.getcwd()
    )


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"SECRET_KEY": None}, "SECRET_KEY is not set"),
        ({"SECRET_KEY": "short"}, "at least 32 characters"),
        ({"PASSWORD_RESET_OTP_PEPPER": None}, "PASSWORD_RESET_OTP_PEPPER must be set"),
        ({"STORAGE_BACKEND": "s3"}, "needs STORAGE_BUCKET"),
        ({"STORAGE_BACKEND": "ftp"}, "STORAGE_BACKEND must be"),
        ({"EMAIL_PROVIDER": "sendgrid"}, "needs SENDGRID_API_KEY"),
        ({"EMAIL_PROVIDER": "pigeon"}, "EMAIL_PROVIDER must be"),
        ({"ANYMAIL_WEBHOOK_SECRET": "no-colon-here-at-all-really"}, "ANYMAIL_WEBHOOK_SECRET must be"),
        ({"ANYMAIL_WEBHOOK_SECRET": "events:short"}, "ANYMAIL_WEBHOOK_SECRET must be"),
        ({"AI_PROVIDER": "llm"}, "needs OPENAI_BASE_URL and AI_MODEL"),
        ({"AI_PROVIDER": "remote"}, "needs AI_BASE_URL and AI_SERVICE_TOKEN"),
        ({"AUTH_COOKIE_SAMESITE": "None"}, "AUTH_COOKIE_SAMESITE=None needs"),
    ],
)
def test_bad_production_settings_fail_with_a_clear_message(tmp_path, env, message):
    result = _load(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr


def test_valid_production_settings_load(tmp_path):
    result = _load(tmp_path, EMAIL_PROVIDER="anymail:mailgun", DATABASE_URL="postgres://u@db:5432/x")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "anymail.backends.mailgun.EmailBackend"


def test_debug_defaults_off_and_embedded_key_is_generated(tmp_path):
    code = (
        "import django; django.setup(); from django.conf import settings as s; "
        "print(s.DEBUG, s.AUTH_COOKIE_SECURE, s.API_DOCS_PUBLIC, s.DATABASES['default']['ENGINE'], "
        "s.CELERY_BROKER_URL, s.STORAGE_BACKEND, s.EMAIL_BACKEND, s.AI_PROVIDER)"
    )
    prod = subprocess.run(
        [sys.executable, "-c", code],
        env={**BASE, "CVENGINE_HOME": str(tmp_path)},
        capture_output=True,
        text=True,
    )
    assert prod.stdout.split() == [
        "False",
        "True",
        "False",
        "django.db.backends.sqlite3",
        "filesystem://",
        "local",
        "outreach.backends.OutboxBackend",
        "offline",
    ]
    embedded = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "cvengine.settings",
        "DEBUG": "true",
        "CVENGINE_HOME": str(tmp_path),
    }
    result = subprocess.run([sys.executable, "-c", code], env=embedded, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0
