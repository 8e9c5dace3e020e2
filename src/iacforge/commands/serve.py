"""`iacforge serve`: an HTTP JSON reward service for RL trainers (verl, OpenRLHF, TRL)."""

from __future__ import annotations

import argparse
import sys

from iacforge.commands.args import port, positive_float, positive_int
from iacforge.config import Settings
from iacforge.serve.server import RewardServer
from iacforge.serve.service import RewardService
from iacforge.verify.cache import VerdictCache, default_path
from iacforge.verify.pool import open_pool

HELP = "Serve certificates and rewards over HTTP: POST /verify, GET /health."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default: loopback only)")
    parser.add_argument("--port", type=port, default=8787, help="port (0: any free port)")
    parser.add_argument("--workers", type=positive_int,
                        help="parallel workers (default: the cores)")
    parser.add_argument("--queue", type=positive_int, default=64,
                        help="requests admitted at once; more are answered 503")
    parser.add_argument("--timeout", type=positive_float, default=600.0,
                        help="seconds a request may take before it is answered 504")
    parser.add_argument("--max-body", type=positive_int, default=64 << 20,
                        help="largest request body in bytes; larger ones are answered 413")
    parser.add_argument("--no-cache", action="store_true", help="do not use the verdict cache")
    parser.add_argument("--executor", choices=["local", "ray"], default="local",
                        help="where candidates are verified: local threads or Ray")
    parser.add_argument("--ray-address", help="Ray cluster to join (default: a local Ray)")


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    workers = args.workers or (None if args.ray_address else settings.workers)
    pool = open_pool(args.executor, workers, args.ray_address)
    cache = None if args.no_cache else VerdictCache(default_path(settings))
    service = RewardService(settings, pool, cache=cache, queue=args.queue, timeout=args.timeout)
    try:
        server = RewardServer((args.host, args.port), service, max_body=args.max_body)
    except OSError as exc:
        service.close()
        print(f"iacforge serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    print(f"iacforge serve: listening on {server.url} ({pool.workers} workers, "
          f"queue {args.queue}, timeout {args.timeout:g} s)", file=sys.stderr, flush=True)
    server.serve_until_signal()
    return 0
