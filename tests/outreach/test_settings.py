"""The outreach settings block refuses unsafe or unusable values at start-up."""

import base64
import os
import subprocess
import sys

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

pytestmark = pytest.mark.sqlite


def _load(tmp_path, **env):
    base = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "cvengine.settings",
        "SECRET_KEY": "k" * 50,
        "PASSWORD_RESET_OTP_PEPPER": "p" * 40,
        "CVENGINE_HOME": str(tmp_path),
    }
    code = "import django; django.setup(); from django.conf import settings as s; print(s.EMAIL_WEBHOOK_VERIFIER)"
    return subprocess.run(
        [sys.executable, "-c", code], env={**base, **env}, capture_output=True, text=True, cwd=os.getcwd()
    )


def _public_key() -> str:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    der = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(der).decode()


def test_valid_webhook_settings_load(tmp_path):
    result = _load(tmp_path, EMAIL_WEBHOOK_PUBLIC_KEY=_public_key())
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "sendgrid"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"EMAIL_WEBHOOK_VERIFIER": "trust-me"}, "EMAIL_WEBHOOK_VERIFIER must be sendgrid or hmac"),
        ({"EMAIL_WEBHOOK_SECRET": "short"}, "EMAIL_WEBHOOK_SECRET must be at least 32 characters"),
        (
            {"EMAIL_WEBHOOK_PUBLIC_KEY": "not-a-key"},
            "EMAIL_WEBHOOK_PUBLIC_KEY: not a base64 DER or PEM public key",
        ),
        ({"OUTREACH_MAX_CONTACTS": "5000"}, "between 1 and 1000"),
        ({"EMAIL_RATE_LIMIT": "0"}, "must be positive"),
    ],
)
def test_bad_values_fail_with_a_clear_message(tmp_path, env, message):
    result = _load(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and message in result.stderr
