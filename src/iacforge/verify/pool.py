"""verify_all: verify many candidates on a worker pool (threads here, or Ray), in input order.

Why threads for the local pool: the work is terraform's. Measured on this repository's
examples with every stage, the Python process itself used 0.4 % of the CPU time (0.25 s of
61 s); the rest was terraform and provider child processes, which run in parallel whatever
the GIL does. Threads also share one moto server, one provider base and the regorus and
checkov set-up, where each worker process would start its own (seconds, and ~70 MB each).

The one path down: `verify_all` (here) → `verify_batched` (batch/batched.py) → `Verifier.verify`
(pipeline.py), each module importing only the ones below it. Candidates go to workers in
chunks (at most one terraform batch, `batch_size`, each, and split so every worker gets a
share), and each chunk is one `verify_batched` call, which verifies it in batched terraform
runs. A chunk that raises is verified again one candidate at
a time, and a candidate that raises gets an `error` certificate, so one bad item never fails
the batch (a SetupError, the machine's fault, still does). Identical candidates (same files
and intent) are verified once. With a VerdictCache, hits never reach a worker and every
result is stored as soon as it exists.

>>> from iacforge import Candidate, Verifier
>>> certs = verify_all([Candidate({"main.tf": "locals {}\\n"}), Candidate({})],
...                    verifier=Verifier(stages=["parse"]), workers=2)
>>> [c.status for c in certs]
['pass', 'fail']
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any, Literal, Protocol

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.errors import IacforgeError, SetupError
from iacforge.verify.batch import BATCH_SIZE, verify_batched
from iacforge.verify.cache import CachedVerifier, VerdictCache, as_cached, intent_identity
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier, resolve_stages

Executor = Literal["local", "ray"]
_POLL = 0.2


class Pool(Protocol):
    """Where chunks run. `share` prepares the verifier once; `submit` runs one chunk."""

    workers: int

    def share(self, verifier: Verifier) -> Any: ...

    def submit(self, shared: Any, candidates: list[Candidate], intents: list[IntentPolicy | None],
               batch_size: int = BATCH_SIZE) -> Future[list[Certificate]]: ...

    def close(self) -> None: ...


class ThreadPool:
    """Chunks on threads of this process, all sharing one Verifier."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="iacforge-verify")

    def share(self, verifier: Verifier) -> Verifier:
        return verifier

    def submit(self, shared: Verifier, candidates: list[Candidate],
               intents: list[IntentPolicy | None],
               batch_size: int = BATCH_SIZE) -> Future[list[Certificate]]:
        return self._executor.submit(verify_chunk, shared, candidates, intents, batch_size)

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


class RayPool:
    """Chunks as Ray tasks: a local Ray of `workers` CPUs, or the cluster at `address`."""

    def __init__(self, workers: int | None = None, address: str | None = None) -> None:
        if address is None:
            # Ray's single-machine mode (its default on macOS and Windows): loopback addresses.
            # Read when ray is imported; Ray >= 2.53 also needs it to honour _node_ip_address.
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no usage reports
        try:
            import ray
        except ImportError:
            raise SetupError("the Ray executor needs Ray: pip install 'iacforge[ray]'") from None
        self._ray = ray
        self._owned = not ray.is_initialized()
        if self._owned:
            # The node address, so every Ray process binds to 127.0.0.1 only, also when ray
            # was imported before (else all interfaces: `ss -ltnp`, Ray 2.52.1 on Linux).
            local = ({"num_cpus": workers or os.cpu_count() or 1, "_node_ip_address": "127.0.0.1"}
                     if address is None else {})
            ray.init(address=address, include_dashboard=False, log_to_driver=False,
                     configure_logging=False, **local)
        self.workers = workers or int(ray.cluster_resources().get("CPU", 1))
        self._task = ray.remote(num_cpus=1, max_retries=0)(verify_chunk)

    def share(self, verifier: Verifier) -> Any:
        # Workers bind their own terraform (binary, provider base): the driver's may not exist
        # on their machine, so ship the verifier without it.
        return self._ray.put(verifier.replace(terraform=None))

    def submit(self, shared: Any, candidates: list[Candidate],
               intents: list[IntentPolicy | None],
               batch_size: int = BATCH_SIZE) -> Future[list[Certificate]]:
        return self._task.remote(shared, candidates, intents, batch_size).future()

    def close(self) -> None:
        if self._owned:
            self._ray.shutdown()


def open_pool(executor: Executor = "local", workers: int | None = None,
              address: str | None = None) -> Pool:
    """A pool of `workers` (default: the cores) for `executor`."""
    if executor == "local":
        return ThreadPool(workers)
    if executor == "ray":
        return RayPool(workers, address)
    raise IacforgeError(f"unknown executor {executor!r}; choose local or ray")


def verify_chunk(verifier: Verifier, candidates: list[Candidate],
                 intents: list[IntentPolicy | None],
                 batch_size: int = BATCH_SIZE) -> list[Certificate]:
    """Verify a chunk, each candidate against its intent; what runs on a worker, local or Ray."""
    try:
        return verify_batched(verifier, candidates, intents, batch_size=batch_size)
    except BaseException as exc:
        _reraise_unless_item_failure(exc)
        return [verify_one(verifier, c, i) for c, i in zip(candidates, intents, strict=True)]


def verify_one(verifier: Verifier, candidate: Candidate,
               intent: IntentPolicy | None) -> Certificate:
    """Verify one candidate; an exception becomes an `error` certificate for it."""
    try:
        return verifier.verify(candidate, intent)
    except BaseException as exc:
        _reraise_unless_item_failure(exc)
        stages = resolve_stages(verifier.stages, with_intent=intent is not None)
        return error_certificate(candidate, stages, f"{type(exc).__name__}: {exc}")


def _reraise_unless_item_failure(exc: BaseException) -> None:
    """Re-raise what is not one item's fault: the machine (SetupError), or being stopped.

    BaseException, not Exception, is caught around items because a panic in a Rust extension
    (regorus) arrives as pyo3's PanicException, which derives from BaseException.
    """
    if isinstance(exc, SetupError | KeyboardInterrupt | SystemExit | GeneratorExit):
        raise exc


def error_certificate(candidate: Candidate, stages: Sequence[str], detail: str) -> Certificate:
    """A certificate saying the verifier could not judge `candidate` (its reward is None)."""
    first, rest = stages[0], stages[1:]
    crashed = StageResult(first, "error", (Diagnostic(
        "error", "the verifier crashed on this candidate", detail, rule_id="iacforge/verifier"),))
    skipped = tuple(StageResult(name, "skipped", (Diagnostic(
        "info", f"skipped: {first} did not pass", rule_id=f"iacforge/{name}"),)) for name in rest)
    return Certificate(candidate.content_hash(), (crashed, *skipped), source=candidate.source,
                       files=tuple(sorted(candidate.files)))


@dataclass
class _Job:
    """One distinct (candidate, intent) to verify, and the input positions (with sources)."""

    candidate: Candidate
    intent: IntentPolicy | None
    digest: str | None
    positions: list[tuple[int, str]]


class Abandoned(IacforgeError):
    """The caller gave up on the batch (its `abandoned()` returned True)."""


def verify_all(
    candidates: Sequence[Candidate],
    intents: IntentPolicy | Sequence[IntentPolicy | None] | None = None,
    *,
    verifier: Verifier | None = None,
    executor: Executor = "local",
    workers: int | None = None,
    ray_address: str | None = None,
    pool: Pool | None = None,
    cache: VerdictCache | None = None,
    progress: bool | None = None,
    timeout: float | None = None,
    abandoned: Callable[[], bool] | None = None,
    batch_size: int = BATCH_SIZE,
) -> list[Certificate]:
    """Certificates for `candidates`, in input order, equal to verifying them one by one.

    Args:
        intents: one policy for all, or one per candidate (None where there is none: such a
            candidate runs no `intent` stage, but what an asked intent needs).
        verifier: the stages and options (default: `Verifier()`).
        executor, workers, ray_address: the pool to open, unless `pool` is given (and kept).
        cache: answer repeated candidates from it and store new verdicts in it; what a miss
            returns is then what a later hit will (`as_cached`).
        progress: a progress bar on stderr; default: when stderr is a terminal.
        timeout: seconds to wait for the whole batch; TimeoutError after that.
        abandoned: polled while waiting; when it returns True, stop with `Abandoned`.
        batch_size: most candidates per chunk, and so per terraform run.
    Chunks not started when the wait ends are cancelled; running ones finish and are cached.
    """
    verifier = verifier or Verifier()
    per_item = _per_item(intents, len(candidates))
    cached = CachedVerifier(verifier, cache) if cache is not None else None
    results: list[Certificate | None] = [None] * len(candidates)
    jobs = _jobs(candidates, per_item, cached, results)
    if not jobs:  # all cached: no pool to open (a local Ray takes seconds to start)
        return results  # type: ignore[return-value]  # every position is a hit
    with _opened(pool, executor, workers, ray_address) as active, \
            _progress_bar(len(candidates), progress) as advance:
        advance(len(candidates) - sum(len(j.positions) for j in jobs))
        shared = active.share(verifier)
        pending: dict[Future[list[Certificate]], list[_Job]] = {}
        for chunk in _chunks(jobs, active.workers, batch_size):
            future = active.submit(shared, [j.candidate for j in chunk],
                                   [j.intent for j in chunk], batch_size)
            pending[future] = chunk
            if cached is not None:
                future.add_done_callback(_store_callback(cached, chunk))
        _collect(pending, results, advance, timeout, abandoned, normalise=cached is not None)
    return results  # type: ignore[return-value]  # _collect filled every position


def _per_item(intents: IntentPolicy | Sequence[IntentPolicy | None] | None,
              n: int) -> list[IntentPolicy | None]:
    if intents is None or isinstance(intents, IntentPolicy):
        return [intents] * n
    if len(intents) != n:
        raise IacforgeError(f"{len(intents)} intents for {n} candidates; give one per "
                            "candidate, or a single policy for all")
    return list(intents)


def _jobs(candidates: Sequence[Candidate], intents: list[IntentPolicy | None],
          cached: CachedVerifier | None, results: list[Certificate | None]) -> list[_Job]:
    """The distinct work left after cache hits, which go straight into `results`."""
    jobs: dict[tuple[str, str], _Job] = {}
    for index, (candidate, intent) in enumerate(zip(candidates, intents, strict=True)):
        ident = (candidate.content_hash(), intent_identity(intent))
        if ident in jobs:
            jobs[ident].positions.append((index, candidate.source))
            continue
        digest = None
        if cached is not None:
            digest, hit = cached.lookup(candidate, intent)
            if hit is not None:
                results[index] = hit
                continue
        jobs[ident] = _Job(candidate, intent, digest, [(index, candidate.source)])
    return list(jobs.values())


def _chunks(jobs: list[_Job], workers: int, batch_size: int) -> Iterator[list[_Job]]:
    """Jobs cut so every worker gets a share, and no chunk is larger than one batch run."""
    size = max(1, min(batch_size, math.ceil(len(jobs) / workers)))
    for start in range(0, len(jobs), size):
        yield jobs[start:start + size]


def _store_callback(cached: CachedVerifier,
                    chunk: list[_Job]) -> Callable[[Future[list[Certificate]]], None]:
    """Store a chunk's verdicts when it finishes, even if nobody waits for it any more."""
    def store(future: Future[list[Certificate]]) -> None:
        if future.cancelled() or future.exception() is not None:
            return
        for job, cert in zip(chunk, future.result(), strict=True):
            if job.digest is not None:
                cached.cache.put(job.digest, cert)

    return store


def _collect(pending: dict[Future[list[Certificate]], list[_Job]],
             results: list[Certificate | None], advance: Callable[[int], None],
             timeout: float | None, abandoned: Callable[[], bool] | None,
             *, normalise: bool) -> None:
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while pending:
            wait_for = _POLL if abandoned is not None else None
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the batch did not finish in {timeout:g} s")
                wait_for = left if wait_for is None else min(wait_for, left)
            done, _ = wait(pending, timeout=wait_for, return_when=FIRST_COMPLETED)
            for future in done:
                chunk = pending.pop(future)
                for job, cert in zip(chunk, future.result(), strict=True):
                    cert = as_cached(cert) if normalise else cert
                    for index, source in job.positions:
                        results[index] = replace(cert, source=source)
                    advance(len(job.positions))
            if abandoned is not None and abandoned():
                raise Abandoned("the caller gave up on the batch")
    finally:
        for future in pending:
            future.cancel()


@contextmanager
def _opened(pool: Pool | None, executor: Executor, workers: int | None,
            address: str | None) -> Iterator[Pool]:
    if pool is not None:
        yield pool
        return
    opened = open_pool(executor, workers, address)
    try:
        yield opened
    finally:
        opened.close()


@contextmanager
def _progress_bar(total: int, enabled: bool | None) -> Iterator[Callable[[int], None]]:
    """An `advance(n)` callable drawing a rich progress bar on stderr, or doing nothing."""
    if not (sys.stderr.isatty() if enabled is None else enabled):
        yield lambda n: None
        return
    from rich import progress as rp
    from rich.console import Console

    columns = (rp.TextColumn("verifying"), rp.BarColumn(), rp.MofNCompleteColumn(),
               rp.TimeElapsedColumn(), rp.TimeRemainingColumn())
    with rp.Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("verify", total=total)
        yield lambda n: bar.advance(task, n)
