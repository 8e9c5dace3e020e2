"""Generate and mutate Terraform with a verifier-fed repair loop.

Sample `samples` candidates; verify them; give every one that failed its certificate's
feedback (`render_feedback`) as the next turn; stop at the first candidate whose verdict is a
pass (the correctness stages, and security or lint only when the verifier's `fail_on` names
them), or after `turns` turns. Every attempt is kept (prompt, reply, certificate, reward): the
trajectories are training data for multi-turn RL. The answer is the best attempt by reward.

The pieces of a turn are defined here once and reused by the eval harness and the RL
episodes: `turn_sampling` (the seed rule), `judge_replies` (replies → candidates →
certificates, one batch), `repair_messages` (the next turn's prompt) and `rank` (the best
attempt).

>>> from iacforge.llm import ScriptedBackend
>>> from iacforge.verify.pipeline import Verifier
>>> backend = ScriptedBackend(['```hcl main.tf\\nlocals {}\\n```'])
>>> result = run_loop(backend, Verifier(stages=["parse"]), Request("Nothing at all."),
...                   LoopConfig(samples=1, turns=2))
>>> result.passed, result.best.turn, len(backend.calls)
(True, 1, 1)
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TextIO

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.errors import ConfigError
from iacforge.hcl.extract import from_text
from iacforge.llm.base import Backend, Messages, Sampling
from iacforge.prompts import generation_prompt, mutation_prompt, repair_prompt
from iacforge.render.feedback import render_feedback
from iacforge.reward import RewardWeights, reward
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import verify_all

#: Verifies candidates, each against its own policy (or None), in order: `verify_all` bound
#: to a verifier, pool and cache.
Judge = Callable[[Sequence[Candidate], Sequence[IntentPolicy | None]], list[Certificate]]


@dataclass(frozen=True)
class Request:
    """What to make: a new configuration from `prompt`, or a change to `files` (mutate)."""

    prompt: str
    #: The existing configuration a mutation starts from; empty for a generation.
    files: dict[str, str] = field(default_factory=dict)
    intent: IntentPolicy | None = None

    @property
    def kind(self) -> Literal["generate", "mutate"]:
        return "mutate" if self.files else "generate"

    def first_prompt(self) -> Messages:
        if self.files:
            return mutation_prompt(self.files, self.prompt)
        return generation_prompt(self.prompt)

    def candidate(self, reply: str, source: str) -> Candidate:
        """The candidate a reply makes. A mutation keeps every input file the reply leaves out;
        a reply with no code at all keeps nothing, so it cannot pass as the unchanged input."""
        extracted = from_text(reply, source=source)
        if not self.files or not extracted.files:
            return extracted
        return Candidate({**self.files, **extracted.files}, source, extracted.problems)


@dataclass(frozen=True)
class LoopConfig:
    """How hard the loop tries."""

    #: Candidates sampled in the first turn; each is repaired on its own afterwards.
    samples: int = 4
    #: Turns in all, the first included (TerraFormer's curation used 5).
    turns: int = 5
    sampling: Sampling = field(default_factory=Sampling)
    #: Weights for the reward that picks the best attempt.
    weights: RewardWeights = field(default_factory=RewardWeights)

    def __post_init__(self) -> None:
        if self.samples < 1:
            raise ConfigError(f"samples must be at least 1, not {self.samples}")
        if self.turns < 1:
            raise ConfigError(f"turns must be at least 1, not {self.turns}")


@dataclass(frozen=True)
class Attempt:
    """One turn of one sample: what was asked, what came back, and its verdict."""

    sample: int
    turn: int
    messages: Messages
    reply: str
    candidate: Candidate
    certificate: Certificate
    reward: float | None

    @property
    def passed(self) -> bool:
        return self.certificate.passed

    def rank(self) -> tuple[bool, float, int, int, int]:
        """Sort key, larger is better (see `rank`)."""
        return rank(self.passed, self.reward, sum(s.passed for s in self.certificate.stages),
                    self.turn, self.sample)

    def to_dict(self) -> dict[str, Any]:
        return {
            "turn": self.turn, "messages": self.messages, "reply": self.reply,
            "files": self.candidate.files, "problems": list(self.candidate.problems),
            "certificate": self.certificate.to_dict(), "reward": self.reward,
            "passed": self.passed,
        }


@dataclass(frozen=True)
class Progress:
    """What the loop is doing, for a live view."""

    phase: Literal["generate", "verify", "turn_done"]
    turn: int
    turns: int
    #: Samples in this turn (the ones still being repaired).
    active: int
    samples: int
    best_reward: float | None
    passed: bool


@dataclass
class Result:
    """Every attempt of a run, by sample, and the best one."""

    request: Request
    trajectories: list[list[Attempt]]
    seconds: float

    @property
    def attempts(self) -> list[Attempt]:
        return [a for trajectory in self.trajectories for a in trajectory]

    @property
    def best(self) -> Attempt:
        return max(self.attempts, key=Attempt.rank)

    @property
    def passed(self) -> bool:
        return self.best.passed

    @property
    def turns_used(self) -> int:
        return max(a.turn for a in self.attempts)

    def to_dict(self) -> dict[str, Any]:
        """A summary for machines: the best attempt in full, the others by reward."""
        best = self.best
        return {
            "kind": self.request.kind, "request": self.request.prompt, "passed": self.passed,
            "seconds": round(self.seconds, 3), "turns_used": self.turns_used,
            "samples": len(self.trajectories),
            "rewards": [[a.reward for a in t] for t in self.trajectories],
            "best": {"sample": best.sample, "turn": best.turn, "reward": best.reward,
                     "files": best.candidate.files, "certificate": best.certificate.to_dict()},
        }


def rank(passed: bool, reward: float | None, stages_passed: int, turn: int,
         sample: int = 0) -> tuple[bool, float, int, int, int]:
    """The one ranking of attempts, larger is better: a full pass, then reward, then stages
    passed, then the earliest turn and sample."""
    return (passed, -1.0 if reward is None else reward, stages_passed, -turn, -sample)


def turn_sampling(sampling: Sampling, turn: int) -> Sampling:
    """The sampling of turn `turn` (1-based): a set seed moves on by one each turn, so a
    repair is not the same draw as the attempt it repairs."""
    if sampling.seed is None or turn == 1:
        return sampling
    return dataclasses.replace(sampling, seed=sampling.seed + turn - 1)


def judge_replies(judge: Judge, requests: Sequence[Request], replies: Sequence[str],
                  sources: Sequence[str]) -> tuple[list[Candidate], list[Certificate]]:
    """The verify half of a turn: each reply as its request's candidate, all judged in one
    batch, each against its request's intent."""
    candidates = [r.candidate(text, source)
                  for r, text, source in zip(requests, replies, sources, strict=True)]
    return candidates, judge(candidates, [r.intent for r in requests])


def repair_messages(first: Messages, reply: str, certificate: Certificate) -> Messages:
    """The next turn's prompt for an attempt that failed: the first prompt, the reply, and
    its certificate's feedback."""
    return repair_prompt(first, reply, render_feedback(certificate))


def judge_with(verifier: Verifier) -> Judge:
    """`verify_all` with `verifier` on a pool of the settings' workers, without progress."""
    def judge(candidates: Sequence[Candidate],
              intents: Sequence[IntentPolicy | None]) -> list[Certificate]:
        return verify_all(candidates, intents, verifier=verifier,
                          workers=verifier.settings.workers, progress=False)

    return judge


def run_loop(backend: Backend, verifier: Verifier | Judge, request: Request,
             config: LoopConfig = LoopConfig(),
             on_progress: Callable[[Progress], None] | None = None) -> Result:
    """Generate, verify and repair until a candidate passes or the turns run out.

    `verifier`: a Verifier, or a `Judge` (e.g. `verify_all` with a pool and a cache)."""
    judge = judge_with(verifier) if isinstance(verifier, Verifier) else verifier
    start = time.monotonic()
    first = request.first_prompt()
    trajectories: list[list[Attempt]] = [[] for _ in range(config.samples)]
    todo: list[tuple[int, Messages]] = [(i, first) for i in range(config.samples)]
    best: Attempt | None = None

    def report(phase: Literal["generate", "verify", "turn_done"], turn: int) -> None:
        if on_progress is not None:
            on_progress(Progress(phase, turn, config.turns, len(todo), config.samples,
                                 best.reward if best else None, bool(best and best.passed)))

    for turn in range(1, config.turns + 1):
        report("generate", turn)
        replies = _sample(backend, first, todo, turn, config)
        report("verify", turn)
        candidates, certs = judge_replies(judge, [request] * len(todo), replies,
                                          [f"sample {i + 1} turn {turn}" for i, _ in todo])
        for (i, messages), text, cand, cert in zip(todo, replies, candidates, certs, strict=True):
            attempt = Attempt(i, turn, messages, text, cand, cert, reward(cert, config.weights))
            trajectories[i].append(attempt)
            best = attempt if best is None else max(best, attempt, key=Attempt.rank)
        report("turn_done", turn)
        todo = [(i, repair_messages(first, trajectories[i][-1].reply,
                                    trajectories[i][-1].certificate))
                for i, _ in todo if not trajectories[i][-1].passed]
        if best is not None and best.passed:
            break
    return Result(request, trajectories, time.monotonic() - start)


def _sample(backend: Backend, first: Messages, todo: list[tuple[int, Messages]], turn: int,
            config: LoopConfig) -> list[str]:
    """One reply for every sample in `todo`: n samples of one prompt in the first turn, then
    one reply to each sample's own repair prompt."""
    sampling = turn_sampling(config.sampling, turn)
    if turn == 1:
        return backend.generate([first], len(todo), sampling)[0]
    return [texts[0] for texts in backend.generate([m for _, m in todo], 1, sampling)]


def write_trajectories(result: Result, out: TextIO, *, model: str = "",
                       constrain: str | None = None) -> int:
    """Write one JSON line per sample (its turns in order); returns the lines written."""
    request = result.request
    for sample, attempts in enumerate(result.trajectories):
        record = {
            "kind": request.kind, "request": request.prompt, "model": model,
            "constrain": constrain,
            "intent": request.intent.text if request.intent else None,
            "initial_files": request.files, "sample": sample,
            "turns": [a.to_dict() for a in attempts],
            "passed": any(a.passed for a in attempts),
            "final_reward": attempts[-1].reward if attempts else None,
        }
        out.write(json.dumps(record) + "\n")
    out.flush()
    return len(result.trajectories)
