"""The emulator's launcher: moto's server, with its control API closed to candidates.

moto serves `/moto-api/*` next to the AWS APIs: `/moto-api/data.json` dumps the resources of
every emulated account, `/moto-api/reset` wipes them, and the recorder replays requests. It
also lets a request pick its account with an `x-moto-account-id` header. A terraform run
that can reach the emulator (every plan can) could use all of these, to read another
candidate's resources or to act across accounts. So every such request is refused with
`403` unless it carries the token the verifier holds (`CONTROL_HEADER`), which the server
gets in its environment (`TOKEN_ENV`) and no candidate ever sees.

    python -I moto_guard.py -H HOST [-p PORT]   # TOKEN_ENV set

Stdlib and moto only, no iacforge imports: the server runs it as a file in the sandbox.
"""

from __future__ import annotations

import argparse
import hmac
import os
import socket
import sys
from collections.abc import Callable, Iterable
from typing import Any

#: The request header that carries the verifier's token, and the environment variable that
#: hands the token to the server.
CONTROL_HEADER = "X-Iacforge-Control"
TOKEN_ENV = "IACFORGE_MOTO_TOKEN"
_CONTROL_KEY = "HTTP_" + CONTROL_HEADER.upper().replace("-", "_")
_ACCOUNT_KEY = "HTTP_X_MOTO_ACCOUNT_ID"
_CONTROL_BACKEND = "moto_api"

StartResponse = Callable[..., Any]


def guarded(dispatcher_class: type, token: str) -> type:
    """A subclass of moto's `DomainDispatcherApplication` that refuses untrusted control calls.

    The refusal is decided by where moto itself routes the request (its `moto_api` backend,
    whatever path or Host header led there), not by matching the path.
    """

    class Guarded(dispatcher_class):  # type: ignore[misc,valid-type]
        def __call__(self, environ: dict[str, Any],
                     start_response: StartResponse) -> Iterable[bytes]:
            trusted = hmac.compare_digest(environ.pop(_CONTROL_KEY, "").encode(),
                                          token.encode())
            if not trusted and _ACCOUNT_KEY in environ:
                return _forbidden(start_response, "the account header is not accepted")
            return super().__call__(environ, start_response) if trusted else \
                self._untrusted(environ, start_response)

        def _untrusted(self, environ: dict[str, Any],
                       start_response: StartResponse) -> Iterable[bytes]:
            app = self.get_application(environ)
            if app is self.app_instances.get(_CONTROL_BACKEND):
                return _forbidden(start_response, "the emulator's control API is not open")
            return app(environ, start_response)

    return Guarded


def _forbidden(start_response: StartResponse, message: str) -> list[bytes]:
    body = (message + "\n").encode()
    start_response("403 Forbidden", [("Content-Type", "text/plain"),
                                     ("Content-Length", str(len(body)))])
    return [body]


def main(argv: list[str] | None = None) -> int:
    """Serve moto on HOST (`unix://PATH` or an address) with the guard in front of it."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-H", "--host", required=True)
    parser.add_argument("-p", "--port", type=int, default=0)
    args = parser.parse_args(argv)
    token = os.environ.pop(TOKEN_ENV, "")
    if not token:
        print(f"moto_guard: {TOKEN_ENV} is not set", file=sys.stderr)
        return 2
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = guarded(DomainDispatcherApplication, token)(create_backend_app)
    fd = None
    if args.host.startswith("unix://"):
        # bound here, relative to the working directory: werkzeug would bind the absolute
        # path, and a unix socket's path may be at most 107 bytes
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(args.host.partition("://")[2])
        listener.listen(128)
        fd = listener.fileno()
    make_server(args.host, args.port, app, threaded=True, request_handler=MotoRequestHandler,
                fd=fd).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
