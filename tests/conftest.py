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


# Outward codes of the test gazetteer: the imports-and-geo.md §8 fixtures plus a few used across tests.
TEST_OUTWARDS = (
    "EC3A",
    "M1",
    "B15",
    "LS1",
    "SW1A",
    "BT1",
    "SE3",
    "IG11",
    "RM10",
    "CR2",
    "CR8",
    "NW1",
    "SW1W",
)


@pytest.fixture(scope="session", autouse=True)
def _gazetteer():
    """A small real gazetteer (all towns, the postcodes of TEST_OUTWARDS) at GEO_DATA_DIR, built once (~2 s)."""
    from core.geo.build import build_gazetteer

    build_gazetteer(settings.GEO_DATA_DIR, only_outwards=TEST_OUTWARDS)


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


class CeleryWorker:
    """A running test worker process; ``stop()`` ends it (and resumes workers it paused)."""

    def __init__(self, proc, hostname: str, log_path, paused: list[str]):
        self.proc, self.hostname, self.log_path, self.paused = proc, hostname, log_path, paused
        proc.log_path = log_path

    def stop(self) -> None:
        import os
        import signal
        import subprocess

        from cvengine.celery import QUEUES

        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        for queue in QUEUES if self.paused else ():
            celery_app.control.add_consumer(queue, destination=self.paused, reply=True, timeout=2)


def start_celery_worker(
    extra_env: dict | None = None, *, name: str = "test", include=(), exclusive=False, purge=True
):
    """Start a real Celery worker process on every queue, using the test database and the real broker.

    ``extra_env`` configures this worker only (its settings are read from the environment at start-up, so a
    settings override in the test process never reaches it), e.g. ``{"AI_PROVIDER": "llm", ...}``.
    ``include`` names task modules to import besides autodiscovery. With ``exclusive`` every other running test
    worker stops consuming until ``stop()``, so this worker's settings decide every task. Needs the test
    database (call it from a fixture that depends on ``django_db_setup``). ``purge=False`` keeps queued messages
    (a replacement for a killed worker must find them).
    """
    import os
    import socket
    import subprocess
    import sys
    import time

    from django.db import connection

    from cvengine.celery import QUEUES
    from tests.testenv import HOME, wait_for

    env = {**os.environ, "DATABASE_URL": _database_url(connection.settings_dict), "LOG_LEVEL": "INFO"}
    env.update(extra_env or {})
    hostname = f"{name}-{os.getpid()}-{time.time_ns()}@{socket.gethostname()}"
    paused: list[str] = []
    if exclusive:
        others = [host for reply in celery_app.control.ping(timeout=0.5) for host in reply]
        for queue in QUEUES if others else ():
            celery_app.control.cancel_consumer(queue, destination=others, reply=True, timeout=2)
        paused = others
    if purge:  # leftovers of earlier tests would otherwise reach this worker
        celery_app.control.purge()
    log_path = HOME / f"worker-{name}-{time.time_ns()}.log"
    log = open(log_path, "wb")  # noqa: SIM115  (kept open for the child's lifetime)
    command = [sys.executable, "-m", "celery", "-A", "cvengine", "worker", "-Q", ",".join(QUEUES),
               "--concurrency", "2", "--hostname", hostname, "--without-gossip", "--without-mingle",
               "--loglevel", "INFO"]  # fmt: skip
    for module in include:
        command += ["--include", module]
    proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    worker = CeleryWorker(proc, hostname, log_path, paused)

    def ready():
        if proc.poll() is not None:
            raise RuntimeError(f"worker exited: {log_path.read_text()[-3000:]}")
        return bool(celery_app.control.ping(destination=[hostname], timeout=0.5))

    try:
        wait_for(ready, "Celery worker", timeout=60)
    except BaseException:
        worker.stop()
        raise
    return worker


@pytest.fixture(scope="session")
def celery_worker(django_db_setup, django_db_blocker):
    """A real Celery worker process (not eager) on every queue, using the test database and the real broker.

    Tests that use it must use ``transactional_db`` so that the worker sees their committed rows.
    """
    worker = start_celery_worker()
    yield worker.proc
    worker.stop()


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
