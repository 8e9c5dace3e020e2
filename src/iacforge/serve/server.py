"""RewardServer: the HTTP face of RewardService, on the standard library's ThreadingHTTPServer.

Why the standard library: the service has two routes and one JSON body, and everything it needs
beyond routing (a bounded queue, per-request timeouts, noticing a client that left, draining
on shutdown) is ours to write whatever the framework. ThreadingHTTPServer adds no dependency
and, with non-daemon threads, `server_close()` already waits for every request in flight.
Flask (installed only as moto's dependency) would add a second server model for no gain; an
ASGI stack is not installed. A thread per connection is cheap next to the terraform processes
each request starts, and connections beyond the queue are refused at once with 503.

Every connection gets an answer, never a reset: the listen backlog holds a burst of clients
(the standard library's is 5, and a full backlog drops connections), and a connection is closed
the lingering way, reading what the client still sends, because closing a socket with unread
input makes the kernel send a reset that can overtake the answer.

Routes: `POST /verify` (see `iacforge.serve.request`), `GET /health`. Errors are JSON,
`{"error": {"status": 422, "message": "..."}}`: 400 malformed JSON (or nested too deeply),
404 unknown route, 411 no Content-Length, 413 body too large, 422 wrong shape, 503 queue full
(with Retry-After), 504 timed out, 500 the verifier itself failed (e.g. no terraform; the
detail goes to the server's log, never to the client). Responses close the connection.
"""

from __future__ import annotations

import contextlib
import json
import select
import signal
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from iacforge.errors import IacforgeError, SetupError
from iacforge.serve.request import RequestError, parse_request
from iacforge.serve.service import RewardService
from iacforge.verify.pool import Abandoned

#: Largest request body refused by reading it (so the client sees the 413, not a reset).
_DRAIN_LIMIT = 1 << 20
#: After answering, how long and how much we read from a client that still sends, so that
#: closing the socket does not reset the connection before the client has read the answer.
_LINGER_SECONDS = 2.0
_LINGER_BYTES = 16 << 20


class RewardServer(ThreadingHTTPServer):
    """An HTTP server for a RewardService; `serve_until_signal()` runs it.

    >>> from iacforge.config import Settings
    >>> from iacforge.verify.pool import ThreadPool
    >>> server = RewardServer(("127.0.0.1", 0), RewardService(Settings(), ThreadPool(1)))
    >>> server.url.startswith("http://127.0.0.1:")
    True
    >>> server.server_close(); server.service.close()
    """

    daemon_threads = False  # server_close() joins request threads: in-flight answers go out
    block_on_close = True
    #: The listen backlog: connections the kernel holds until the accept loop takes them. A
    #: burst beyond it is dropped, and those clients see a reset, not the 503 they should get.
    #: (The kernel caps it at net.core.somaxconn.)
    request_queue_size = 1024

    def __init__(self, address: tuple[str, int], service: RewardService, *,
                 max_body: int = 64 << 20) -> None:
        super().__init__(address, _Handler)
        self.service = service
        self.max_body = max_body

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def shutdown_request(self, request: socket.socket) -> None:  # type: ignore[override]
        """Close a connection without resetting it: send our FIN, then read until the client's."""
        try:
            request.shutdown(socket.SHUT_WR)
            request.settimeout(_LINGER_SECONDS)
            deadline, left = time.monotonic() + _LINGER_SECONDS, _LINGER_BYTES
            while left > 0 and time.monotonic() < deadline:
                chunk = request.recv(min(left, 65536))
                if not chunk:
                    break
                left -= len(chunk)
        except OSError:
            pass  # the client is gone already: nothing left to protect
        self.close_request(request)

    def handle_error(self, request: object, client_address: object) -> None:
        """One log line for a connection that failed outside a request (e.g. a client reset)."""
        exc = sys.exc_info()[1]
        print(f"iacforge serve: connection from {client_address} failed: "
              f"{type(exc).__name__}", file=sys.stderr, flush=True)

    def serve_until_signal(self) -> None:
        """Serve until SIGTERM or SIGINT, then stop accepting, finish in-flight requests, and
        stop the service. A second signal ends the process the default way."""
        def on_signal(signum: int, frame: object) -> None:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGINT, signal.default_int_handler)
            print(f"iacforge serve: {signal.Signals(signum).name}, finishing requests in flight",
                  file=sys.stderr, flush=True)
            threading.Thread(target=self.shutdown, name="iacforge-shutdown").start()

        previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
        try:
            self.serve_forever(poll_interval=0.2)
        finally:
            self.server_close()  # closes the socket, then waits for request threads
            self.service.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)


class _Handler(BaseHTTPRequestHandler):
    server: RewardServer
    server_version = "iacforge"
    timeout = 60  # seconds a client may take to send its request

    def do_GET(self) -> None:
        if self.path != "/health":
            self._error(404, f"no route GET {self.path}; try GET /health or POST /verify")
            return
        self._send(200, self.server.service.health())

    def do_POST(self) -> None:
        if self.path != "/verify":
            self._drain()
            self._error(404, f"no route POST {self.path}; try POST /verify")
            return
        service = self.server.service
        if not service.admit():
            self._drain()
            self._error(503, f"the queue is full ({service.queue} requests); retry later",
                        {"Retry-After": "1"})
            return
        try:
            self._verify(service)
        finally:
            service.release()

    def _verify(self, service: RewardService) -> None:
        try:
            body = self._body()
            try:
                payload = json.loads(body)
            except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
                raise RequestError(400, f"malformed JSON: {exc}") from None
            except RecursionError:
                raise RequestError(400, "malformed JSON: nested too deeply") from None
            request = parse_request(payload, max_bytes=service.settings.max_bytes)
            answer = service.answer(request, abandoned=self._client_gone)
        except RequestError as exc:
            self._error(exc.status, exc.message)
        except Abandoned:
            self.log_message("client left before its answer; unfinished work was cancelled")
            self.close_connection = True
        except TimeoutError:
            self._error(504, f"the batch did not finish in {service.timeout:g} s; verdicts "
                             "that finish later are cached, so a retry is faster")
        except SetupError as exc:  # the detail may name the server's paths: log, not answer
            self.log_error("setup problem: %s", exc)
            self._error(500, "the server cannot verify (a setup problem); its log says why")
        except IacforgeError as exc:  # a request the verifier refuses (intent stage, no intent)
            self._error(422, str(exc))
        except Exception:  # a bug: log it, answer without its text, keep serving
            self.log_error("internal error:\n%s", traceback.format_exc())
            self._error(500, "internal error; the server's log has the details")
        else:
            self._send(200, answer)

    def _body(self) -> bytes:
        raw = self.headers.get("Content-Length")
        if raw is None or not raw.isdigit():
            raise RequestError(411, "a Content-Length header is required")
        length = int(raw)
        if length > self.server.max_body:
            self._drain()
            raise RequestError(413, f"the body is {length} bytes; the limit is "
                                    f"{self.server.max_body}")
        try:
            body = self.rfile.read(length)
        except OSError:  # includes the socket timeout
            body = b""
        if len(body) != length:
            raise RequestError(400, f"the body ended after {len(body)} of {length} bytes")
        return body

    def _drain(self) -> None:
        """Read (a bounded part of) a body we refuse, so the client can read our answer."""
        raw = self.headers.get("Content-Length", "")
        if raw.isdigit() and int(raw) <= _DRAIN_LIMIT:
            with contextlib.suppress(OSError):  # a slow or vanished client: answer anyway
                self.rfile.read(int(raw))

    def send_error(self, code: int, message: str | None = None,
                   explain: str | None = None) -> None:
        """http.server's own refusals (bad request line, 414, 431, 501), as our JSON errors."""
        self._error(code, message or self.responses.get(code, ("error",))[0])

    def _client_gone(self) -> bool:
        """True when the client closed its end (it sends nothing after the body)."""
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            return bool(readable) and self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _error(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        self._send(status, {"error": {"status": status, "message": message}}, headers)

    def _send(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
        except OSError as exc:  # the client left while we answered: its loss, not the server's
            self.log_message("could not send the answer: %s", exc)
        self.close_connection = True
