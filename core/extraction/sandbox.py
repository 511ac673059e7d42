"""A child process that reads documents under memory and time limits, reused from one document to the next.

Why a process: pdfminer inflates a stream in one piece and some library loops never reach a cooperative
checkpoint, so only an address-space limit (``RLIMIT_AS``) and a kill on a wall-clock deadline truly bound a
hostile file. Why a long-lived one: forking a fresh child per document costs 6–15 ms of CPU in a worker
holding a few hundred MB (page tables, copy-on-write faults, teardown) — as much as reading the PDF itself.
So the child is forked once per worker process, serves jobs one at a time, and is replaced when it dies, is
killed on a deadline, runs out of memory, or has served ``RECYCLE_AFTER`` jobs (bounding heap drift).

Jobs are module-level functions with picklable arguments; documents cross as a path or as bytes. The child
closes every descriptor it inherited except its two pipes (a worker's database or broker socket must not
outlive the worker because a child still holds it) and exits when the parent goes away.
"""

import atexit
import contextlib
import faulthandler
import gc
import os
import pickle
import resource
import select
import signal
import struct
import threading
import time
from collections.abc import Callable

from core.extraction.errors import CORRUPT_FILE, ExtractionError, describe
from core.extraction.limits import Limits

RECYCLE_AFTER = 200
_HEADER = struct.Struct("!Q")
_LIMIT_MESSAGE = "The document could not be processed within the time and memory limits."


def run_isolated[T](func: Callable[..., T], *args, limits: Limits, seconds: float | None = None) -> T:
    """``func(*args)`` in the sandbox child within ``seconds`` (default ``limits.hard_seconds``).

    Returns its result or raises its ExtractionError; any other exception, a crash, running out of memory or
    the deadline becomes ``corrupt_file``. Without fork (or ``limits.isolate`` off) it runs in-process with the
    same error mapping.
    """
    seconds = limits.hard_seconds if seconds is None else seconds
    if not limits.isolate or not hasattr(os, "fork"):
        return _unwrap(_call(func, args)[:2])
    return _SANDBOX.run(func, args, limits.memory_bytes, seconds)


def shutdown() -> None:
    """Stop this process's sandbox child (it exits once idle); the next job starts a new one."""
    with _SANDBOX.lock:
        if _SANDBOX.pid is not None and _SANDBOX.owner == os.getpid():
            _SANDBOX.stop(kill=False)


def _call(func: Callable, args: tuple) -> tuple[str, object, bool]:
    """(kind, value, retire): a library's own exception never escapes; after MemoryError the child retires."""
    try:
        return "ok", func(*args), False
    except ExtractionError as exc:
        return "error", exc, False
    except MemoryError:
        return "error", ExtractionError(CORRUPT_FILE, "The document needs too much memory to process."), True
    except Exception as exc:
        return "error", ExtractionError(CORRUPT_FILE, "The document could not be read.", describe(exc)), False


def _unwrap(outcome: tuple[str, object]):
    kind, value = outcome
    if kind == "error":
        raise value
    return value


class _Sandbox:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pid: int | None = None
        self.owner = 0  # the process that forked the child; another process (a fork of ours) must not use it
        self.memory_bytes = 0
        self.jobs = 0
        self.requests = self.replies = -1

    def run(self, func: Callable, args: tuple, memory_bytes: int, seconds: float):
        with self.lock:
            if self.pid is None or self.owner != os.getpid() or self.memory_bytes != memory_bytes:
                self._start(memory_bytes)
            try:
                _send(self.requests, pickle.dumps((func, args), protocol=pickle.HIGHEST_PROTOCOL))
                reply = _receive(self.replies, time.monotonic() + seconds)
            except OSError:  # the child died between jobs
                reply = None
            if reply is None:
                self.stop(kill=True)
                raise ExtractionError(CORRUPT_FILE, _LIMIT_MESSAGE)
            kind, value, retire = pickle.loads(reply)  # noqa: S301 (written by our own forked child)
            self.jobs += 1
            if retire or self.jobs >= RECYCLE_AFTER:
                self.stop(kill=False)
            return _unwrap((kind, value))

    def _start(self, memory_bytes: int) -> None:
        if self.pid is not None and self.owner == os.getpid():
            self.stop(kill=True)
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never returns
            _serve(request_read, reply_write, memory_bytes)
        os.close(request_read)
        os.close(reply_write)
        self.pid, self.owner, self.memory_bytes, self.jobs = pid, os.getpid(), memory_bytes, 0
        self.requests, self.replies = request_write, reply_read

    def stop(self, *, kill: bool) -> None:
        """Close the pipes (an idle child exits on EOF) and reap the child; ``kill`` for a busy or stuck one."""
        for fd in (self.requests, self.replies):
            with contextlib.suppress(OSError):
                os.close(fd)
        if kill:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        self.pid, self.requests, self.replies = None, -1, -1

    def forget(self) -> None:
        """In a forked copy of the owner: drop the inherited pipe ends without touching the owner's child."""
        if self.pid is not None:
            for fd in (self.requests, self.replies):
                with contextlib.suppress(OSError):
                    os.close(fd)
        self.pid, self.requests, self.replies = None, -1, -1
        self.lock = threading.Lock()


_SANDBOX = _Sandbox()
atexit.register(shutdown)  # reap the child on a normal exit (it also exits by itself when our pipes close)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_SANDBOX.forget)


def _serve(requests: int, replies: int, memory_bytes: int) -> None:
    """The child's loop: one job at a time until the parent closes the request pipe."""
    status = 0
    try:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_DFL)  # the parent's handlers (Celery's) must not run here
        faulthandler.disable()  # a native library aborting on a hostile file is expected: no stack dump
        _close_inherited({requests, replies})
        gc.freeze()  # inherited objects are never scanned: collections would copy the parent's pages
        _limit_memory(memory_bytes)
        while True:
            request = _receive(requests, None)
            if request is None:
                break
            func, args = pickle.loads(request)  # noqa: S301 (written by our parent)
            outcome = _call(func, args)
            _send(replies, pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL))
            if outcome[2]:
                break
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _close_inherited(keep: set[int]) -> None:
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, resource.getrlimit(resource.RLIMIT_NOFILE)[0])


def _limit_memory(memory_bytes: int) -> None:
    """Address space: what the fork inherited plus ``memory_bytes`` (Linux; elsewhere no memory limit)."""
    try:
        with open("/proc/self/statm") as fh:
            mapped = int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return
    resource.setrlimit(resource.RLIMIT_AS, (mapped + memory_bytes, mapped + memory_bytes))


def _send(fd: int, payload: bytes) -> None:
    view = memoryview(_HEADER.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view) :]


def _receive(fd: int, deadline: float | None) -> bytes | None:
    """One length-prefixed message, or None on EOF or when ``deadline`` passes first."""
    header = _read_exactly(fd, _HEADER.size, deadline)
    if header is None:
        return None
    return _read_exactly(fd, _HEADER.unpack(header)[0], deadline)


def _read_exactly(fd: int, size: int, deadline: float | None) -> bytes | None:
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0 or not select.select([fd], [], [], timeout)[0]:
                return None
        chunk = os.read(fd, min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)
