import io

import pytest
from django.core.management import call_command

from accounts.models import User

pytestmark = [pytest.mark.django_db, pytest.mark.sqlite]


def _run(*args):
    out = io.StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_ensure_admin_generates_a_password_once(monkeypatch):
    monkeypatch.delenv("CVENGINE_ADMIN_EMAIL", raising=False)
    monkeypatch.delenv("CVENGINE_ADMIN_PASSWORD", raising=False)
    output = _run("ensure_admin")
    password = output.split("password: ", 1)[1].split()[0]
    admin = User.objects.get(email="admin@cvengine.local")
    assert admin.check_password(password)
    assert admin.role == "superuser" and admin.is_staff and admin.is_superuser and admin.is_operator
    second = _run("ensure_admin")
    assert "password" not in second
    assert User.objects.count() == 1


def test_ensure_admin_from_environment(monkeypatch):
    monkeypatch.setenv("CVENGINE_ADMIN_EMAIL", " Boss@Agency.co.uk ")
    monkeypatch.setenv("CVENGINE_ADMIN_PASSWORD", "a-long-Passphrase-42")
    output = _run("ensure_admin")
    assert "a-long-Passphrase-42" not in output
    user = User.objects.get(email="boss@agency.co.uk")
    assert user.check_password("a-long-Passphrase-42") and user.role == "superuser"
    assert "exists" in _run("ensure_admin")


def test_ensure_bucket_is_a_no_op_or_confirms_privacy(settings):
    output = _run("ensure_bucket")
    if settings.STORAGE_BACKEND == "s3":
        assert "is private" in output
    else:
        assert "nothing to do" in output
