"""RewardService: what the HTTP layer calls; admission, one verifier per stage list, rewards.

Requests share one worker pool and one verdict cache. At most `queue` requests are admitted at
once (being verified, or waiting for a worker); the HTTP layer answers 503 beyond that.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from iacforge._version import __version__
from iacforge.config import Settings
from iacforge.reward import reward
from iacforge.serve.request import VerifyRequest
from iacforge.verify.cache import VerdictCache
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import Pool, verify_all


class RewardService:
    """Verify request batches on a shared pool and price each certificate.

    >>> from iacforge import Candidate
    >>> from iacforge.verify.pool import ThreadPool
    >>> service = RewardService(Settings(), ThreadPool(1), queue=4, timeout=60)
    >>> request = VerifyRequest((Candidate({"main.tf": "locals {}\\n"}),), (None,), ("parse",))
    >>> service.answer(request)["results"][0]["reward"]  # parse passed; validate did not run
    0.0
    >>> service.close()
    """

    def __init__(self, settings: Settings, pool: Pool, *, cache: VerdictCache | None = None,
                 queue: int = 64, timeout: float | None = None,
                 options: VerifierOptions | None = None) -> None:
        self.settings = settings
        self.pool = pool
        self.cache = cache
        self.queue = queue
        self.timeout = timeout
        self.options = options or VerifierOptions()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._verifiers: dict[tuple[tuple[str, ...] | None, tuple[str, ...] | None],
                              Verifier] = {}

    def admit(self) -> bool:
        """Take a queue slot without waiting; False when the queue is full. `release()` after."""
        with self._lock:
            if self._in_flight >= self.queue:
                return False
            self._in_flight += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def answer(self, request: VerifyRequest,
               abandoned: Callable[[], bool] | None = None) -> dict[str, Any]:
        """`{"results": [{"certificate": ..., "reward": ...}]}` in candidate order.

        Raises TimeoutError after `timeout` seconds and `Abandoned` when `abandoned()` says the
        client left; what finishes afterwards still lands in the cache.
        """
        certs = verify_all(list(request.candidates), list(request.intents),
                           verifier=self._verifier(request.stages, request.fail_on), pool=self.pool,
                           cache=self.cache, progress=False, timeout=self.timeout,
                           abandoned=abandoned)
        return {"results": [{"certificate": c.to_dict(), "reward": reward(c)}
                            for c in certs]}

    def health(self) -> dict[str, Any]:
        with self._lock:
            in_flight = self._in_flight
        return {"status": "ok", "version": __version__, "workers": self.pool.workers,
                "queue": {"limit": self.queue, "in_flight": in_flight},
                "cache": self.cache is not None}

    def close(self) -> None:
        """Stop the pool (after running work) and close the cache."""
        self.pool.close()
        if self.cache is not None:
            self.cache.close()

    def _verifier(self, stages: tuple[str, ...] | None,
                  fail_on: tuple[str, ...] | None = None) -> Verifier:
        # one verifier per stage list and policy, so each binds terraform once, not per request
        key = (stages, fail_on)
        options = self.options if fail_on is None else replace(self.options, fail_on=fail_on)
        with self._lock:
            if key not in self._verifiers:
                self._verifiers[key] = Verifier(self.settings, stages, options=options)
            return self._verifiers[key]
