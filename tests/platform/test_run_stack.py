"""`make run` in miniature: the embedded stack starts with no services or keys, works, and stops on Ctrl-C."""

import json
import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from tests.testenv import free_port, wait_for

pytestmark = pytest.mark.sqlite
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _embedded_env(home, port):
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env.update(
        CVENGINE_HOME=str(home),
        DEBUG="true",
        PORT=str(port),
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        CVENGINE_ADMIN_EMAIL="",
        PYTHONUNBUFFERED="1",
    )
    return env


def test_embedded_stack_serves_runs_tasks_and_stops_on_ctrl_c(tmp_path):
    port = free_port()
    env = _embedded_env(tmp_path / "var", port)
    log = open(tmp_path / "stack.log", "wb")  # noqa: SIM115
    # Started from another directory: everything the stack writes goes under CVENGINE_HOME.
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    stack = subprocess.Popen(
        [sys.executable, os.path.join(ROOT, "manage.py"), "run_stack", "--port", str(port)],
        cwd=elsewhere,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:

        def healthy():
            assert stack.poll() is None, (tmp_path / "stack.log").read_text()[-3000:]
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health/", timeout=2) as response:
                return json.load(response)["status"] == "ok"

        wait_for(healthy, "embedded stack", timeout=90)
        output = (tmp_path / "stack.log").read_text()
        assert "Created superuser admin@cvengine.local with password:" in output
        assert (tmp_path / "var" / "db.sqlite3").exists()

        # A task goes through the filesystem broker to the worker the stack started.
        media = tmp_path / "var" / "media" / "tmp"
        media.mkdir(parents=True)
        (media / "doomed.txt").write_text("x")
        enqueue = (
            "import django; django.setup(); from cvengine.tasks import cleanup_files; "
            "cleanup_files.delay(['tmp/doomed.txt'])"
        )
        subprocess.run(
            [sys.executable, "-c", enqueue],
            cwd=elsewhere,
            env={**env, "DJANGO_SETTINGS_MODULE": "cvengine.settings"},
            check=True,
            timeout=60,
        )
        wait_for(lambda: not (media / "doomed.txt").exists(), "worker to run the task", timeout=60)
    finally:
        stack.send_signal(signal.SIGINT)
        try:
            stack.wait(timeout=30)
        except subprocess.TimeoutExpired:
            stack.kill()
            raise
    assert "All processes stopped." in (tmp_path / "stack.log").read_text()
    assert list(elsewhere.iterdir()) == []  # e.g. no ./control of the filesystem broker
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health/", timeout=2)
    leftovers = subprocess.run(["pgrep", "-f", f"--bind 127.0.0.1:{port}"], capture_output=True, text=True)
    assert leftovers.stdout.strip() == ""
