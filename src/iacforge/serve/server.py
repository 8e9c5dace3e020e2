"""RewardServer: the HTTP face of RewardService, on the standard library's ThreadingHTTPServer.

Why the standard library: the service has two routes and one JSON body, and everything it needs
beyond routing (a bounded queue, per-request timeouts, noticing a client that left, draining
on shutdown) is ours to write whatever the framework. ThreadingHTTPServer adds no dependency
and, with non-daemon threads, `server_close()` already waits for every request in flight.
Flask (installed only as moto's dependency) would add a second server model for no gain; an
ASGI stack is not installed. A thread per connection is cheap next to the terraform processes
each request starts, and connections beyond the queue are refused at once with 503.

Routes: `POST /verify` (see `iacforge.serve.request`), `GET /health`. Errors are JSON,
`{"error": {"status": 422, "message": "..."}}`: 400 malformed JSON, 404 unknown route,
411 no Content-Length, 413 body too large, 422 wrong shape, 503 queue full, 504 timed out,
500 the verifier itself failed (e.g. no terraform). Responses close the connection.
"""

from __future__ import annotations

import json
import select
import signal
import socket
import sys
import threading
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from iacforge.errors import IacforgeError, SetupError
from iacforge.serve.request import RequestError, parse_request
from iacforge.serve.service import RewardService
from iacforge.verify.pool import Abandoned

#: Largest request body refused by reading it (so the client sees the 413, not a reset).
_DRAIN_LIMIT = 1 << 20


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

    def __init__(self, address: tuple[str, int], service: RewardService, *,
                 max_body: int = 64 << 20) -> None:
        super().__init__(address, _Handler)
        self.service = service
        self.max_body = max_body

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

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
        except SetupError as exc:
            self._error(500, f"setup problem: {exc}")
        except IacforgeError as exc:  # a request the verifier refuses (intent stage, no intent)
            self._error(422, str(exc))
        except Exception as exc:  # a bug: answer it, log it, keep serving
            self.log_error("internal error:\n%s", traceback.format_exc())
            self._error(500, f"internal error: {type(exc).__name__}: {exc}")
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
            self.rfile.read(int(raw))

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
