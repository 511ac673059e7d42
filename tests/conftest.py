import pytest
from django.conf import settings
from rest_framework.test import APIClient

from cvengine.celery import app as celery_app


@pytest.fixture(scope="session", autouse=True)
def _s3_bucket(django_db_blocker):
    """The private test bucket exists before any test touches storage (services profile)."""
    if settings.STORAGE_BACKEND == "s3":
        from cvengine import storage

        storage.ensure_bucket()


@pytest.fixture
def eager_celery():
    """Run tasks inline (unit tests only; make run and the worker tests never do this)."""
    celery_app.conf.update(task_always_eager=True, task_eager_propagates=True)
    yield celery_app
    celery_app.conf.update(task_always_eager=False, task_eager_propagates=False)


@pytest.fixture
def make_user(db):
    from accounts.models import User

    def make(email="operator@example.org", password="S3cure-pass-phrase!", **fields):
        fields.setdefault("first_name", "Olive")
        fields.setdefault("last_name", "Operator")
        return User.objects.create_user(email, password, **fields)

    return make


@pytest.fixture
def operator(make_user):
    return make_user("operator@example.org", is_staff=True)


@pytest.fixture
def superuser(db):
    from accounts.models import User

    return User.objects.create_superuser("root@example.org", "S3cure-pass-phrase!", first_name="Ruth")


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def operator_client(operator):
    client = APIClient()
    client.force_authenticate(operator)
    return client


def _database_url(settings_dict) -> str:
    """The URL of the database the tests use (the test database once pytest-django has created it)."""
    if settings_dict["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{settings_dict['NAME']}"
    user = settings_dict.get("USER") or "postgres"
    auth = f"{user}:{settings_dict['PASSWORD']}" if settings_dict.get("PASSWORD") else user
    return f"postgres://{auth}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process (not eager) on every queue, using the test database and the real broker.

    Tests that use it must use ``transactional_db`` so that the worker sees their committed rows.
    """
    import os
    import subprocess
    import sys
    import time

    from django.db import connection

    from cvengine.celery import QUEUES
    from tests.testenv import HOME, wait_for

    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "LOG_LEVEL": "INFO"}
    celery_app.control.purge()
    log_path = HOME / f"worker-{time.time_ns()}.log"
    log = open(log_path, "wb")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cvengine",
            "worker",
            "-Q",
            ",".join(QUEUES),
            "--concurrency",
            "2",
            "--hostname",
            f"test-{os.getpid()}@%h",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "INFO",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited: {log_path.read_text()[-3000:]}")
        return bool(celery_app.control.ping(timeout=0.5))

    wait_for(ready, "Celery worker", timeout=60)
    proc.log_path = log_path
    yield proc
    import signal

    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def smtp_server():
    from tests.fakes import FakeSMTPServer

    server = FakeSMTPServer()
    yield server
    server.close()


@pytest.fixture
def fake_http():
    """Factory for local fake HTTP APIs (the LLM server, the e-mail provider, Nominatim ...)."""
    from tests.fakes import FakeHTTPServer

    servers = []

    def make(responder=None):
        server = FakeHTTPServer(responder)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()
