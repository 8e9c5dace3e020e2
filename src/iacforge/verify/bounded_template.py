"""The process that forks `bounded`'s workers: `python -m iacforge.verify.bounded_template`.

It imports the stages and checkov once, then for each request on its stdin (a Unix socket:
a memory budget and one end of a socket pair) forks a worker that serves calls on that socket
(`bounded.serve`) and answers with the worker's pid. It ends when its parent closes stdin.
"""

from __future__ import annotations

import os
import signal
import socket
from multiprocessing.connection import Connection

from iacforge.verify import checkov_scan, pipeline  # noqa: F401  (loads every stage)
from iacforge.verify.bounded import serve


def main() -> None:
    checkov_scan._checkov()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped as they end
    requests = socket.socket(fileno=0)
    while True:
        budget, fds, _, _ = socket.recv_fds(requests, 8, 1)
        if not budget or not fds:
            return
        pid = os.fork()
        if pid == 0:
            requests.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            serve(Connection(fds[0]), int.from_bytes(budget, "big"))
            os._exit(0)
        os.close(fds[0])
        requests.sendall(pid.to_bytes(8, "big"))


if __name__ == "__main__":
    main()
