"""A dedicated ``redis-server`` for one test, which the test may kill and restart (never the shared Redis)."""

import os
import signal
import socket
import subprocess
from contextlib import contextmanager
from pathlib import Path

from tests.testenv import free_port, wait_for


class RedisServer:
    """``redis-server`` on a free port with its data in ``directory``.

    Append-only persistence with ``appendfsync always`` (as a production broker Redis should run: every queued
    message is on disk before Redis answers), so a killed server restarts with every message it had accepted.
    """

    def __init__(self, directory: Path):
        self.directory, self.port, self.proc = directory, free_port(), None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        log = open(self.directory / "redis.log", "ab")  # noqa: SIM115  (kept open for the child's lifetime)
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "", "--appendonly", "yes", "--appendfsync", "always"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip

        def ready():
            if self.proc.poll() is not None:
                raise RuntimeError((self.directory / "redis.log").read_text()[-2000:])
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as conn:
                conn.sendall(b"PING\r\n")
                return conn.recv(16).startswith(b"+PONG")

        wait_for(ready, "the dedicated Redis", timeout=20)

    def kill(self) -> None:
        """A crash: SIGKILL, no shutdown save (the append-only file is all that survives)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()


@contextmanager
def redis_server(directory: Path):
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.kill()


@contextmanager
def broker_of_this_process(url: str):
    """Point this (the test) process's Celery app at ``url``: the API's enqueues and the control commands of
    ``start_celery_worker`` go there; restored afterwards.

    Celery reads ``CELERY_BROKER_URL`` from the environment before its configuration, and caches its connection
    and producer pools, so both are dropped on the way in and out. They are not closed: kombu keeps one pool per
    broker URL for the process, and the shared broker's pool is picked up again afterwards.
    """
    from cvengine.celery import app

    def switch(to: str | None) -> None:
        app._pool = None
        app.amqp._producer_pool = None
        if to is None:
            os.environ.pop("CELERY_BROKER_URL", None)
        else:
            os.environ["CELERY_BROKER_URL"] = to

    previous = os.environ.get("CELERY_BROKER_URL")
    switch(url)
    try:
        yield
    finally:
        switch(previous)
