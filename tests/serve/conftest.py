"""A reward server on a free loopback port, run on a thread for the length of a test module."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from iacforge.config import Settings
from iacforge.serve import RewardServer, RewardService
from iacforge.verify.pool import ThreadPool


@contextlib.contextmanager
def serving(*, queue: int, **server: Any) -> Iterator[RewardServer]:
    """A RewardServer of two verifier threads admitting `queue` requests, shut down after."""
    service = RewardService(Settings(), ThreadPool(2), queue=queue)
    running = RewardServer(("127.0.0.1", 0), service, **server)
    thread = threading.Thread(target=running.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield running
    finally:
        running.shutdown()
        thread.join()
        running.server_close()
        service.close()
