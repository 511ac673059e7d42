"""Start the whole system in one terminal: web server, Celery worker and beat. Ctrl-C stops all of them.

``make run`` uses it with the embedded defaults; it works unchanged with production settings from the
environment (one machine, all queues). Separate machines run the same processes from deploy/.
"""

import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from cvengine.celery import QUEUES


class Command(BaseCommand):
    help = "Migrate, ensure an operator account, then run gunicorn, a Celery worker (all queues) and beat."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--concurrency", type=int, default=settings.CELERY_WORKER_CONCURRENCY)

    def handle(self, *args, host, port, concurrency, **options):
        settings.CVENGINE_HOME.mkdir(parents=True, exist_ok=True)
        settings.STATIC_ROOT.mkdir(parents=True, exist_ok=True)
        call_command("migrate", interactive=False, verbosity=0)
        if not settings.DEBUG:
            call_command("collectstatic", interactive=False, verbosity=0)
        call_command("load_geodata")  # ~10 s the first time, then kept
        call_command("ensure_bucket")
        call_command("ensure_admin")
        python = sys.executable
        celery = [python, "-m", "celery", "-A", "cvengine"]
        commands = {
            # One web process with threads: the embedded cache (throttle counters) lives in that process.
            "web": [
                python,
                "-m",
                "gunicorn",
                "cvengine.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "1",
                "--threads",
                "8",
                "--timeout",
                "120",
                "--access-logfile",
                "-",
                "--logger-class",  # no query strings, tokens or addresses in the access log
                "cvengine.accesslog.PrivacyLogger",
            ],
            "worker": [
                *celery,
                "worker",
                "-Q",
                ",".join(QUEUES),
                "--concurrency",
                str(concurrency),
                "--loglevel",
                "INFO",
                "--hostname",
                "embedded@%h",
            ],
            "beat": [
                *celery,
                "beat",
                "--loglevel",
                "INFO",
                "--schedule",
                settings.CELERY_BEAT_SCHEDULE_FILENAME,
            ],
        }
        processes = {name: subprocess.Popen(cmd, start_new_session=True) for name, cmd in commands.items()}
        self.stdout.write(
            self.style.SUCCESS(
                f"CV Engine is running on http://{host}:{port}/ (API docs: /api/docs/, admin: /admin/). "
                f"Data: {settings.CVENGINE_HOME}. Press Ctrl-C to stop."
            )
        )

        stopping = False

        def stop(signum=None, frame=None):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        exit_code = 0
        while not stopping:
            for name, proc in processes.items():
                if proc.poll() is not None:
                    self.stderr.write(f"{name} exited with status {proc.returncode}; stopping the others.")
                    exit_code, stopping = 1, True
                    break
            time.sleep(0.5)
        self._terminate(processes)
        sys.exit(exit_code)

    def _terminate(self, processes):
        for proc in processes.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in processes.values():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        self.stdout.write("All processes stopped.")
