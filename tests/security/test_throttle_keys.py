"""Throttle counters keep no personal data (reference-defects S3, S9), beyond tests/accounts/test_throttles.py
(limits, windows, proxies, atomic counters): the per-account and per-IP counters of failed logins live in the
shared cache under hashed keys, so the cache's key space names no e-mail address or IP address."""

import uuid

import pytest
from django.core.cache import cache

from accounts import throttles

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _cache_keys(prefix: str) -> list[str]:
    backend = cache._cache
    if isinstance(backend, dict):  # local memory (embedded mode)
        return [key for key in backend if prefix in key]
    client = backend.get_client(None)  # Redis (services mode)
    return [key.decode() for key in client.keys(f"*{prefix}*")]


def test_failed_login_counters_are_keyed_by_hashes(client, monkeypatch):
    prefix = f"throttle-keys-{uuid.uuid4().hex}"
    monkeypatch.setattr(throttles, "KEY_PREFIX", prefix)
    address = "jane.doe.private@example.org"
    for _ in range(3):
        response = client.post(
            "/api/auth/login/", {"email": address, "password": "wrong"}, REMOTE_ADDR="203.0.113.9"
        )
        assert response.status_code == 401
    keys = _cache_keys(prefix)
    assert keys, "no throttle counter was written"
    for key in keys:
        assert "jane" not in key and "example.org" not in key and "203.0.113" not in key, key
    assert throttles.peek("login_account_failures", address)[0] == 3
    cache.delete_many([key.split(":", 2)[-1] for key in keys])
