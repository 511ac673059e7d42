"""Run the real AI service (``uvicorn ai_service.app:app``) in a subprocess on a free port."""

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.testenv import HOME, ROOT, free_port, wait_for

TOKEN = "ai-service-test-token-" + "t" * 20


@dataclass
class RunningService:
    url: str
    token: str
    proc: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


def start_ai_service(extra_env: dict[str, str] | None = None, *, wait: bool = True) -> RunningService:
    port = free_port()
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AI_", "OPENAI_")) and key != "DJANGO_SETTINGS_MODULE"
    }
    env.update({"AI_SERVICE_TOKEN": TOKEN, "AI_SERVICE_PROVIDER": "offline", "PYTHONPATH": str(ROOT)})
    env.update(extra_env or {})
    log_path = HOME / f"ai-service-{port}-{time.time_ns()}.log"  # removed with the test home at exit
    log = log_path.open("wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "ai_service.app:app", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    service = RunningService(f"http://127.0.0.1:{port}", env["AI_SERVICE_TOKEN"], proc, log_path)
    if wait:

        def ready():
            if proc.poll() is not None:
                raise RuntimeError(f"AI service exited: {service.log()[-3000:]}")
            with urllib.request.urlopen(f"{service.url}/health", timeout=1) as response:
                return response.status == 200

        try:
            wait_for(ready, "AI service", timeout=30)
        except Exception:
            service.stop()
            raise
    return service
