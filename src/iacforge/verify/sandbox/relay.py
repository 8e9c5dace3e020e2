"""Relay: carry TCP connections to the loopback emulator across the sandbox's network boundary.

A sandboxed command lives in its own network namespace, which holds nothing but loopback, so
it cannot reach the emulator the verifier started on the host's 127.0.0.1. Two ends bridge
exactly that one port and nothing else:

- inside the sandbox, `python3 relay.py PORT SOCKET -- COMMAND...` listens on 127.0.0.1:PORT,
  runs COMMAND, forwards each connection to the unix socket SOCKET (bind-mounted in), and
  exits with COMMAND's status;
- on the host, a `Bridge` serves that unix socket by connecting to the emulator's TCP port.

The emulator itself runs sandboxed too, listening on a unix socket only; a `Gateway` gives
the host its loopback TCP port.

Stdlib only, no iacforge imports: the inside end runs under the system python in the sandbox.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable

_CHUNK = 65536


def splice(a: socket.socket, b: socket.socket) -> None:
    """Copy bytes both ways between two connected sockets until both sides are done."""
    back = threading.Thread(target=_copy, args=(b, a), daemon=True)
    back.start()
    _copy(a, b)
    back.join()
    a.close()
    b.close()


def _copy(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(_CHUNK):
            dst.sendall(data)
    except OSError:
        pass
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


def _serve(listener: socket.socket, connect: Callable[[], socket.socket]) -> None:
    """Accept forever; splice each connection to a fresh upstream from `connect()`."""
    while True:
        try:
            conn, _ = listener.accept()
        except OSError:
            return  # the listener was closed
        try:
            upstream = connect()
        except OSError:
            conn.close()
            continue
        threading.Thread(target=splice, args=(conn, upstream), daemon=True).start()


def unix_address(path: str) -> tuple[str, int | None]:
    """`path` as an address a unix socket takes (the kernel's limit is 107 bytes): a longer one
    is reached through `/proc/self/fd/N/` of its directory; the caller closes fd N (or None).

    >>> unix_address("/tmp/x.sock")
    ('/tmp/x.sock', None)
    """
    if len(os.fsencode(path)) <= 100:
        return path, None
    fd = os.open(os.path.dirname(path), os.O_PATH | os.O_DIRECTORY)
    return f"/proc/self/fd/{fd}/{os.path.basename(path)}", fd


def _close_fd(fd: int | None) -> None:
    if fd is not None:
        with contextlib.suppress(OSError):
            os.close(fd)


class Bridge:
    """The host end: a unix socket whose every connection is forwarded to 127.0.0.1:`port`.

    >>> with Bridge(8080) as bridge:  # doctest: +SKIP
    ...     bridge.path  # bind-mount this into a sandbox
    """

    def __init__(self, port: int, *, parent: str | None = None) -> None:
        self.port = port
        self._dir = tempfile.mkdtemp(prefix="bridge-", dir=parent)
        self.path = os.path.join(self._dir, f"{port}.sock")
        address, fd = unix_address(self.path)
        self._listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._listener.bind(address)
        finally:
            _close_fd(fd)
        os.chmod(self.path, 0o666)  # the sandbox may run as an unprivileged uid
        self._listener.listen(64)
        threading.Thread(target=_serve, args=(self._listener, self._connect), daemon=True,
                         name=f"iacforge-bridge-{port}").start()

    def _connect(self) -> socket.socket:
        upstream = socket.create_connection(("127.0.0.1", self.port), timeout=30)
        upstream.settimeout(None)  # an idle keep-alive connection may wait as long as it likes
        return upstream

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)

    def __enter__(self) -> Bridge:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Gateway:
    """The host end of a server that listens on the unix socket `path` only: a free loopback
    TCP port (`port`) whose every connection is forwarded to that socket."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._address, self._fd = unix_address(path)
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port: int = self._listener.getsockname()[1]
        threading.Thread(target=_serve, args=(self._listener, self._connect), daemon=True,
                         name=f"iacforge-gateway-{self.port}").start()

    def _connect(self) -> socket.socket:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        upstream.connect(self._address)
        return upstream

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        _close_fd(self._fd)
        self._fd = None


def main(argv: list[str]) -> int:
    """`PORT SOCKET [PORT SOCKET ...] -- COMMAND...`: relay the ports while COMMAND runs."""
    split = argv.index("--")
    pairs, command = argv[:split], argv[split + 1:]
    for port, path in zip(pairs[::2], pairs[1::2], strict=True):
        listener = socket.create_server(("127.0.0.1", int(port)), backlog=64)
        address, _ = unix_address(path)  # its fd lives as long as this process

        def connect(address: str = address) -> socket.socket:
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            upstream.connect(address)
            return upstream

        threading.Thread(target=_serve, args=(listener, connect), daemon=True).start()
    code = subprocess.call(command)
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
