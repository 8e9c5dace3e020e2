"""Run the verifier's in-process steps in worker processes bounded in memory and time.

Parsing, the screen, checkov, the built-in lint rules and regorus all run Python or Rust code
on what a model wrote. A few doubling locals make checkov build gigabyte strings; a deep
nesting exhausts the stack. So these steps run in a worker process: its address space is
capped (`RLIMIT_AS`: what it held when it started plus `MEMORY_BUDGET`), a call that does not
answer within its timeout is killed, and a worker that ran out of memory or stack, was
killed, or crashed is replaced by a fresh one. The caller gets `BoundExceeded`, never a dead
process.

Workers are forked by a template process (`bounded_template`) that has already imported
hcl2, checkov and regorus, so a replacement costs a fork, not the seconds of importing
checkov; and a worker lives on between calls, so the common path costs one round trip of
pickled arguments and results. Nothing of the caller's `__main__` is imported into a worker
(as multiprocessing's spawn and forkserver would). There is one idle worker per thread that
has used one.

>>> run(sum, [1, 2, 3], timeout=60)
6
"""

from __future__ import annotations

import contextlib
import os
import pickle
import queue
import resource
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Literal

from iacforge.errors import IacforgeError

#: Bytes a worker may map beyond what it held when it started (checkov and friends loaded).
MEMORY_BUDGET = 640 << 20

Kind = Literal["memory", "depth", "time", "crash"]


class BoundExceeded(IacforgeError):
    """A bounded call ran out of memory or stack, ran past its timeout, or its worker died.

    `kind` is "memory", "depth" (recursion), "time" or "crash"; `str()` is one line.
    """

    def __init__(self, kind: Kind, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class StepError(IacforgeError):
    """The step raised an ordinary exception in the worker; the message names its type."""


def run(fn: Callable[..., Any], *args: Any, timeout: float) -> Any:
    """`fn(*args)` in a bounded worker; `fn`, the arguments and the result must pickle.

    Raises:
        BoundExceeded: the call hit a bound or its worker died.
        StepError: `fn` raised (an `IacforgeError` from `fn` is raised as itself).
    """
    return _POOL.call(fn, args, timeout)


def close() -> None:
    """End every idle worker and the template (a later `run` starts them again)."""
    _POOL.close()


class _Worker:
    """One worker process and the parent's end of its socket."""

    def __init__(self, conn: Connection, pid: int) -> None:
        self.conn, self.pid = conn, pid
        self.alive = True

    def call(self, fn: Callable[..., Any], args: tuple, timeout: float) -> Any:
        try:
            self.conn.send((fn, args))
            answered = self.conn.poll(timeout)
        except (OSError, EOFError):
            answered = True  # the worker is gone: recv() below says so
        if not answered:
            with contextlib.suppress(ProcessLookupError):  # alive until now: still ours
                os.kill(self.pid, signal.SIGKILL)
            self.stop()
            raise BoundExceeded("time", f"did not finish within {timeout:g} s")
        try:
            kind, value = self.conn.recv()
        except (OSError, EOFError):
            self.stop()
            raise BoundExceeded("crash", "its worker died (out of memory in native code, or "
                                "a crash)") from None
        if kind == "ok":
            return value
        if kind in ("memory", "depth"):
            self.stop()
            raise BoundExceeded(kind, value)
        raise value

    def stop(self) -> None:
        """Close the socket: a worker waiting for a call ends (the template reaps it)."""
        self.alive = False
        self.conn.close()


class _Pool:
    """The template process and the idle workers it forked, shared by threads."""

    def __init__(self, budget: int = MEMORY_BUDGET) -> None:
        self.budget = budget
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._template: subprocess.Popen | None = None
        self._socket: socket.socket | None = None

    def call(self, fn: Callable[..., Any], args: tuple, timeout: float) -> Any:
        try:
            worker = self._idle.get_nowait()
        except queue.Empty:
            worker = self._fork()
        try:
            return worker.call(fn, args, timeout)
        finally:
            if worker.alive:
                self._idle.put(worker)

    def _fork(self) -> _Worker:
        """A fresh worker, forked by the template (started, or restarted, first)."""
        ours, theirs = socket.socketpair()
        with self._lock:
            for attempt in (1, 2):
                try:
                    sock = self._running()
                    socket.send_fds(sock, [self.budget.to_bytes(8, "big")], [theirs.fileno()])
                    pid = int.from_bytes(_read_exactly(sock, 8), "big")
                    break
                except OSError:
                    self._close()
                    if attempt == 2:
                        raise
        theirs.close()
        return _Worker(Connection(ours.detach()), pid)

    def _running(self) -> socket.socket:
        if self._template is None or self._template.poll() is not None:
            ours, theirs = socket.socketpair()
            path = os.pathsep.join(p for p in sys.path if p)
            self._template = subprocess.Popen(
                [sys.executable, "-m", "iacforge.verify.bounded_template"], stdin=theirs,
                env={**os.environ, "PYTHONPATH": path}, start_new_session=True)
            theirs.close()
            self._socket = ours
        assert self._socket is not None
        return self._socket

    def close(self) -> None:
        while not self._idle.empty():
            self._idle.get_nowait().stop()
        with self._lock:
            if self._socket is not None:
                self._socket.close()  # the template sees its stdin end, and exits
            if self._template is not None:
                try:
                    self._template.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self._template.kill()
                    self._template.wait()
            self._template = self._socket = None

    def _close(self) -> None:
        if self._template is not None:
            self._template.kill()
            self._template.wait()
        if self._socket is not None:
            self._socket.close()
        self._template = self._socket = None


def _read_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("the worker template went away")
        data += chunk
    return data


_POOL = _Pool()


def serve(conn: Connection, budget: int) -> None:
    """The worker's loop: cap memory, then answer calls until the parent goes away."""
    _cap_address_space(budget)
    while True:
        try:
            fn, args = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply: tuple[str, Any] = ("ok", fn(*args))
        except MemoryError:
            reply = ("memory", "ran out of its memory bound")
        except RecursionError:
            reply = ("depth", "nested too deeply (ran out of stack)")
        except Exception as exc:
            reply = ("raised", _portable(exc))
        try:
            conn.send(reply)
        except MemoryError:
            reply = ("memory", "ran out of its memory bound sending its result")
            conn.send(reply)
        except RecursionError:
            reply = ("depth", "its result is nested too deeply to send")
            conn.send(reply)
        except Exception as exc:
            conn.send(("raised", StepError(f"its result could not be sent: {exc}")))
        if reply[0] in ("memory", "depth"):
            return  # what ran out may have left the interpreter in a poor state


def _portable(exc: Exception) -> Exception:
    """`exc` when the parent can unpickle it without importing more, else a StepError."""
    if isinstance(exc, IacforgeError):
        try:
            return pickle.loads(pickle.dumps(exc))
        except Exception:
            pass
    return StepError(f"{type(exc).__name__}: {exc}")


def _cap_address_space(budget: int) -> None:
    with open("/proc/self/status") as status:
        held = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize:"))
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = held + budget if hard == resource.RLIM_INFINITY else min(held + budget, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
