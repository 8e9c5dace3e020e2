"""The verifier as a TRL reward function: batched, cached, local or through the reward server.

`VerifierReward` follows TRL's reward contract, `(prompts, completions, **columns) ->
list[float | None]`: each completion is turned into a candidate the way the repair loop does
(a mutation keeps the input files the reply leaves out), the whole batch is verified at once
(`verify_all` on a thread pool with the verdict cache, or one `POST /verify` to an `iacforge
serve` URL), and each certificate is priced by `iacforge.reward`. None (the verifier could not
judge) is TRL's "no reward" and is left out of the advantage. Every call records how many
candidates reached each formal stage (FV-i validate, FV-ii plan, FV-iii intent) and how long
the trainer waited, and hands both to TRL's `log_metric`.

It is a small picklable class, not a closure: rollout workers under `accelerate launch` get
their own copy, which opens its own pool and cache connection on first use.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.data.task import policy_name
from iacforge.formal import FORMAL_STAGES, GATES
from iacforge.generate import Request
from iacforge.reward import RewardWeights, reward
from iacforge.verify.intent_policy import IntentPolicy

#: The stages a training reward needs: TerraFormer's scale reads validate, plan and intent.
REWARD_STAGES = FORMAL_STAGES
#: The formal gates counted in the logs (`fv1_validate`, …): a gate is passed when its last
#: stage passed, since each stage runs only after its prerequisites passed.
FORMAL = tuple((f"{name}_{stages[-1]}", stages[-1]) for name, stages in GATES.items())


@dataclass
class StageCounts:
    """How many of a batch's candidates passed each formal stage, and how long it took."""

    total: int = 0
    passed: dict[str, int] = field(default_factory=lambda: {k: 0 for k, _ in FORMAL})
    #: Candidates that had an intent policy (FV-iii's denominator).
    with_intent: int = 0
    seconds: float = 0.0

    def add(self, certs: Sequence[Certificate], intents: Sequence[IntentPolicy | None]) -> None:
        self.total += len(certs)
        self.with_intent += sum(i is not None for i in intents)
        for cert in certs:
            for key, stage in FORMAL:
                self.passed[key] += cert.passes(stage)

    def metrics(self) -> dict[str, float]:
        """Pass rates per formal stage (FV-iii over candidates with a policy), and seconds."""
        out = {f"{k}_rate": n / self.total if self.total else 0.0 for k, n in self.passed.items()}
        if self.with_intent:
            out["fv3_intent_rate"] = self.passed["fv3_intent"] / self.with_intent
        out["reward_seconds"] = self.seconds
        return out


class VerifierReward:
    """Price completions with the verifier (TRL reward function).

    >>> fn = VerifierReward(stages=("parse",), cache=False)
    >>> fn(prompts=[[]], completions=[[{"role": "assistant",
    ...    "content": "```hcl main.tf\\nlocals {}\\n```"}]], intent=[""], files=[[]])
    [0.0]
    """

    __name__ = "verifier"  # TRL names the reward's log columns after it

    def __init__(self, stages: Sequence[str] = REWARD_STAGES, *, settings: Settings | None = None,
                 url: str | None = None, workers: int | None = None, cache: bool = True,
                 weights: RewardWeights | None = None, timeout: float = 600.0) -> None:
        self.stages = tuple(stages)
        self.settings = settings or Settings.from_env()
        self.url = url.rstrip("/") if url else None
        self.workers = workers
        self.cache = cache
        self.weights = weights or RewardWeights()
        self.timeout = timeout
        #: Counts since the last `take_counts()`: the trainer's callback reads them per step.
        self.counts = StageCounts()
        self._pool: Any = None
        self._cache: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_pool": None, "_cache": None}

    def __call__(self, prompts: list[Any], completions: list[Any], *,
                 intent: list[str] | None = None, files: list[Any] | None = None,
                 task_id: list[str] | None = None,
                 log_metric: Callable[[str, float], None] | None = None,
                 **_: Any) -> list[float | None]:
        n = len(completions)
        # named as `Task.policy()` names it when the task is known, so eval and training
        # share cached verdicts
        intents = [(IntentPolicy(t, policy_name(i)) if i else IntentPolicy(t)) if t else None
                   for t, i in zip(intent or [""] * n, task_id or [""] * n, strict=True)]
        starts = [start_files(f) for f in (files or [None] * n)]
        candidates = [Request("", files=s).candidate(_text(c), f"completion {i + 1}")
                      for i, (c, s) in enumerate(zip(completions, starts, strict=True))]
        certs, batch = self._certify(candidates, intents)
        if log_metric is not None:
            for key, value in batch.metrics().items():
                log_metric(key, value)
        return [reward(c, self.weights) for c in certs]

    def certificates(self, candidates: Sequence[Candidate],
                     intents: Sequence[IntentPolicy | None]) -> list[Certificate]:
        """Certificates in input order (counted in `counts`, like the rewards' batches)."""
        return self._certify(candidates, intents)[0]

    def _certify(self, candidates: Sequence[Candidate], intents: Sequence[IntentPolicy | None],
                 ) -> tuple[list[Certificate], StageCounts]:
        """One batch, candidates with and without a policy together (a candidate without
        one runs no intent stage)."""
        start = time.monotonic()
        done = self._verify(list(candidates), list(intents), self.stages)
        batch = StageCounts()
        batch.add(done, intents)
        batch.seconds = time.monotonic() - start
        self._merge(batch)
        return done, batch

    def take_counts(self) -> StageCounts:
        """The counts since the last call, and a fresh start."""
        counts, self.counts = self.counts, StageCounts()
        return counts

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _merge(self, batch: StageCounts) -> None:
        self.counts.total += batch.total
        self.counts.with_intent += batch.with_intent
        self.counts.seconds += batch.seconds
        for key, value in batch.passed.items():
            self.counts.passed[key] += value

    def _verify(self, candidates: list[Candidate], intents: list[IntentPolicy | None],
                stages: tuple[str, ...]) -> list[Certificate]:
        if self.url:
            return self._remote(candidates, intents, stages)
        from iacforge.verify.cache import VerdictCache, default_path
        from iacforge.verify.pipeline import Verifier
        from iacforge.verify.pool import ThreadPool, verify_all

        if self._pool is None:
            self._pool = ThreadPool(self.workers)
        if self.cache and self._cache is None:
            self._cache = VerdictCache(default_path(self.settings))
        return verify_all(candidates, intents, verifier=Verifier(self.settings, stages),
                          pool=self._pool, cache=self._cache, progress=False,
                          timeout=self.timeout)

    def _remote(self, candidates: list[Candidate], intents: list[IntentPolicy | None],
                stages: tuple[str, ...]) -> list[Certificate]:
        body = {"stages": list(stages), "candidates": [
            {"files": c.files, "intent": None if p is None else p.text}
            for c, p in zip(candidates, intents, strict=True)]}
        request = urllib.request.Request(
            f"{self.url}/verify", data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            answer = json.loads(response.read())
        return [Certificate.from_dict(r["certificate"]) for r in answer["results"]]


def start_files(value: Any) -> dict[str, str]:
    """A task's `files` column as a name → text dict, in any form a trainer hands it over:
    the stored list of `{"name", "text"}` (datasets' `List({"name", "text"})`), a mapping,
    either as a JSON string, or empty/None (a generation task). A JSON string that is not
    JSON raises `json.JSONDecodeError`, a `ValueError` like any other unusable value.

    >>> start_files([{"name": "main.tf", "text": "locals {}"}])
    {'main.tf': 'locals {}'}
    >>> start_files('{"main.tf": "locals {}"}') == start_files({"main.tf": "locals {}"})
    True
    """
    if isinstance(value, str):
        value = json.loads(value) if value.strip() else None
    if value is None:
        return {}
    if isinstance(value, dict):
        return {str(name): str(text) for name, text in value.items()}
    try:  # a list, or the numpy array of dicts a Parquet column arrives as
        return {str(item["name"]): str(item["text"]) for item in value}
    except (TypeError, KeyError):
        raise ValueError("files must be a list of {name, text} objects, a mapping of name to "
                         f"text, or JSON of either; got {type(value).__name__}") from None


def _text(completion: Any) -> str:
    """A completion's text: TRL passes a string, or a list of messages for chat prompts."""
    if isinstance(completion, str):
        return completion
    return "".join(m.get("content") or "" for m in completion if m.get("role") == "assistant")
