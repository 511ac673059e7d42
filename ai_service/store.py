"""In-memory task registry of the AI service: status, result, photo and input file of every task.

Finished tasks (their results and photos) are deleted ``ttl`` seconds after they end; input files as soon as
their job ends (and with their task in any case). Unfinished tasks are dropped after twice the TTL. Unknown and
purged ids read as ``PENDING`` (api.md §6). Thread-safe: jobs finish on executor threads.
"""

import contextlib
import threading
import time
import uuid
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

PENDING, STARTED, COMPLETED, FAILED = "PENDING", "STARTED", "completed", "failed"


@dataclass
class Task:
    id: str
    kind: str  # regeneration | rewrite
    created: float = field(default_factory=time.monotonic)
    finished: float | None = None
    status: str = PENDING
    result: dict[str, Any] | None = None
    error: str | None = None
    photo: bytes | None = None
    input_path: Path | None = None
    future: Future | None = None

    def public_status(self) -> dict[str, Any]:
        if self.status == COMPLETED:
            return {"status": COMPLETED, "result": self.result}
        if self.status == FAILED:
            return {"status": FAILED, "error": self.error}
        running = self.future is not None and self.future.running()
        return {"status": STARTED if running else PENDING}


class TaskStore:
    def __init__(self, ttl_seconds: float):
        self.ttl = ttl_seconds
        self._tasks: dict[str, Task] = {}
        self._lock = threading.Lock()

    def create(self, kind: str, input_path: Path | None = None) -> Task:
        task = Task(id=str(uuid.uuid4()), kind=kind, input_path=input_path)
        with self._lock:
            self._tasks[task.id] = task
        return task

    def get(self, task_id: str) -> Task | None:
        self.purge()
        with self._lock:
            return self._tasks.get(task_id)

    def unfinished(self) -> int:
        with self._lock:
            return sum(1 for task in self._tasks.values() if task.finished is None)

    def complete(self, task_id: str, result: dict[str, Any], photo: bytes | None = None) -> None:
        self._finish(task_id, status=COMPLETED, result=result, photo=photo)

    def fail(self, task_id: str, error: str) -> None:
        self._finish(task_id, status=FAILED, error=error[:1000])

    def _finish(self, task_id: str, **values: Any) -> None:
        with self._lock:
            task = self._tasks.get(task_id)
            if task is None:  # purged while running: nobody can ask for it any more
                return
            for name, value in values.items():
                setattr(task, name, value)
            task.finished = time.monotonic()
            path, task.input_path, task.future = task.input_path, None, None
        _unlink(path)

    def purge(self, now: float | None = None) -> int:
        """Delete expired tasks with their photos and files; returns how many went."""
        now = time.monotonic() if now is None else now
        with self._lock:
            expired = [
                task
                for task in self._tasks.values()
                if (task.finished is not None and now - task.finished >= self.ttl)
                or (task.finished is None and now - task.created >= 2 * self.ttl)
            ]
            for task in expired:
                del self._tasks[task.id]
        for task in expired:
            _unlink(task.input_path)
            task.result = task.photo = None
        return len(expired)

    def clear(self) -> None:
        with self._lock:
            tasks, self._tasks = list(self._tasks.values()), {}
        for task in tasks:
            _unlink(task.input_path)


def _unlink(path: Path | None) -> None:
    if path is not None:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
