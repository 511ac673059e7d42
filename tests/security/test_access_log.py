"""Gunicorn's access log carries no personal data (reference-defects S9): it is written outside Django's logging,
so its request lines would otherwise show query strings (``?search=<name>``, ``?email=<address>``) and the tokens
of signed file links and unsubscribe links (a readable encoding of the address)."""

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from outreach.unsubscribe import make_token
from tests.testenv import free_port

ROOT = Path(__file__).resolve().parents[2]
# Tries to put every risky atom in the log: the request line, query, referer, raw URI, cookie and auth headers.
GREEDY_FORMAT = (
    '%(h)s "%(r)s" %(s)s q=%(q)s f="%(f)s" raw=%({raw_uri}e)s c=%({cookie}i)s a=%({authorization}i)s'
)


@pytest.fixture
def gunicorn_log(tmp_path):
    """A real gunicorn (one worker) with the production logger class; yields (base URL, access log path)."""
    log, port = tmp_path / "access.log", free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "cvengine.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1",
         "--access-logfile", str(log), "--access-logformat", GREEDY_FORMAT,
         "--logger-class", "cvengine.accesslog.PrivacyLogger"],
        env=dict(os.environ), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{base}/api/attribution/", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield base, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def test_access_log_has_no_query_strings_tokens_addresses_or_credentials(gunicorn_log):
    base, log = gunicorn_log
    address, token = "jane.doe@example.org", make_token("jane.doe@example.org")
    headers = {
        "Referer": f"https://app.example/candidates?search={address}",
        "Cookie": "access_token=secret-cookie-value",
        "Authorization": "Bearer secret-bearer-value",
    }
    requests = [
        f"/api/candidates/?search=Jane+Doe&email={address}&whatsapp_number=07700900123",
        "/api/files/eyJuIjoiY2FuZGlkYXRlcy9vcmlnaW5hbCJ9:1tXyZa:c2lnbmF0dXJl/",
        f"/api/outreach/unsubscribe/{token}/",
        f"/api/organizations/contacts/?contact_email={address}",
    ]
    for path in requests:
        httpx.get(f"{base}{path}", headers=headers, timeout=10)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and len(log.read_text().splitlines()) < len(requests):
        time.sleep(0.1)
    text = log.read_text()
    assert len(text.splitlines()) >= len(requests)
    assert '"GET /api/candidates/ HTTP/1.1"' in text and "/api/files/[token]/" in text
    assert "/api/outreach/unsubscribe/[token]/" in text
    for secret in ("Jane", address, "07700900123", token.split(":")[0], "eyJuIjoi", "secret-cookie-value",
                   "secret-bearer-value", "search=", "contact_email"):  # fmt: skip
        assert secret not in text, secret
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", text)


@pytest.mark.sqlite
def test_every_gunicorn_command_uses_the_privacy_logger():
    entrypoint = (ROOT / "deploy" / "entrypoint.sh").read_text()
    run_stack = (ROOT / "cvengine" / "management" / "commands" / "run_stack.py").read_text()
    for text in (entrypoint, run_stack):
        assert text.count("cvengine.accesslog.PrivacyLogger") == text.count("--access-logfile") == 1
