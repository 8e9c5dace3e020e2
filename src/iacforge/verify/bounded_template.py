"""The process that forks `bounded`'s workers: `python -m iacforge.verify.bounded_template`.

It imports the stages and checkov once, then for each request on its stdin (a Unix socket:
a memory budget and one end of a socket pair) forks a worker that serves calls on that socket
(`bounded.serve`) and answers with the worker's pid. It ends when its parent closes stdin.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
from multiprocessing.connection import Connection

from iacforge.verify import checkov_scan, pipeline  # noqa: F401  (loads every stage)
from iacforge.verify.bounded import serve


def main() -> None:
    checkov_scan._checkov()
    signal.signal(signal.SIGCHLD, _reap)
    requests = socket.socket(fileno=0)
    while True:
        budget, fds, _, _ = socket.recv_fds(requests, 8, 1)
        if not budget or not fds:
            return
        pid = os.fork()
        if pid == 0:
            requests.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when it ends
            serve(Connection(fds[0]), int.from_bytes(budget, "big"))
            os._exit(0)
        os.close(fds[0])
        requests.sendall(pid.to_bytes(8, "big"))


def _reap(*_: object) -> None:
    """Wait for ended workers, so their resource usage counts as this process's children's."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


if __name__ == "__main__":
    main()
