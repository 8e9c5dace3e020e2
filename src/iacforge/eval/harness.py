"""The evaluation harness: sample, verify and repair every task, resumably.

For each task, `samples` candidates are generated; each one is verified and, while it does not
pass, repaired with its certificate's feedback for up to `turns` turns in all (the repair loop
of `iacforge generate`, its turn step reused: `turn_sampling`, `judge_replies`,
`repair_messages`; run per sample so every sample gets its full budget). Tasks
are worked through `chunk` at a time: replies of a whole chunk are asked for in one backend call
per turn, and verified in batches on one worker pool.

Every reply is written to the run directory before it is verified, and every verdict as soon
as its batch is done (see `RunDir`). Work is keyed by (task id, sample, turn): a restarted run
skips what is written, verifies replies that were written but not judged, and generates only
what is missing, so nothing is lost and nothing is counted twice.

>>> import tempfile
>>> from iacforge.data import Task
>>> from iacforge.llm import ScriptedBackend
>>> from iacforge.verify.pipeline import Verifier
>>> task = Task("t1", "generate", "Nothing at all.")
>>> config = EvalConfig(stages=("parse",))
>>> run = open_run(tempfile.mkdtemp(), [task], config, "scripted")
>>> records = run_eval([task], run, config,
...                    backend=ScriptedBackend(["```hcl main.tf\\nlocals {}\\n```"]),
...                    verifier=Verifier(stages=["parse"]))
>>> [(r["task_id"], r["passed"]) for r in records]
[('t1', True)]
>>> results_of(run)["overall"]["rates"]["compile"] is None  # validate was not asked for
True
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.data.task import Task
from iacforge.errors import ConfigError, IacforgeError
from iacforge.eval.metrics import summarise
from iacforge.eval.rundir import SCHEMA_VERSION, Key, RunDir, environment, key_of
from iacforge.formal import parse_fail_on
from iacforge.generate import judge_replies, repair_messages, turn_sampling
from iacforge.llm.base import Backend, Messages, Sampling
from iacforge.reward import reward
from iacforge.verify.cache import VerdictCache
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import Pool, verify_all

#: Source of the candidates in a `--references` run.
REFERENCE = "reference"


@dataclass(frozen=True)
class EvalConfig:
    """What a run does; everything here but `chunk` is part of the run's identity."""

    #: Candidates sampled per task (n of pass@k).
    samples: int = 1
    #: Turns per sample, the first included; a sample is repaired until it passes.
    turns: int = 1
    #: The k of pass@k to report; each at most `samples`.
    ks: tuple[int, ...] = (1,)
    #: Stages to verify (None: the verifier's default, intent where a task has a policy).
    stages: tuple[str, ...] | None = None
    sampling: Sampling = field(default_factory=Sampling)
    #: Judge the tasks' reference solutions instead of a model's replies.
    references: bool = False
    #: Tasks worked on together (one backend call per turn, one verification batch).
    chunk: int = 8
    #: Advisory stages whose failure fails a sample's verdict (`passed`) too; the verifier
    #: the run is given must judge with the same (`Verifier.options.fail_on`).
    fail_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "fail_on", parse_fail_on(self.fail_on))
        if self.samples < 1 or self.turns < 1 or self.chunk < 1:
            raise IacforgeError("samples, turns and chunk must be at least 1")
        bad = [k for k in self.ks if not 1 <= k <= self.samples]
        if not self.ks or bad:
            raise IacforgeError(f"every k of pass@k must be between 1 and --samples "
                                f"({self.samples}); got {', '.join(map(str, self.ks))}")
        if self.references and (self.samples, self.turns) != (1, 1):
            raise IacforgeError("--references judges one reference per task: use --samples 1 "
                                "--turns 1")

    def identity(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        del data["chunk"]
        data["ks"], data["stages"] = list(self.ks), self.stages and list(self.stages)
        if self.fail_on:  # absent when empty, so runs made before it existed still resume
            data["fail_on"] = list(self.fail_on)
        else:
            del data["fail_on"]
        return data


def open_run(path: str | Path, tasks: Sequence[Task], config: EvalConfig, model: str,
             extra: dict[str, Any] | None = None) -> RunDir:
    """Create or resume the run of `tasks` × `config` × `model` in `path`."""
    digest = hashlib.sha256("".join(t.digest() for t in tasks).encode()).hexdigest()
    identity = {"model": model, "tasks": digest, **config.identity()}
    meta = [{"id": t.id, "prompt": t.prompt, "difficulty": t.difficulty, "family": t.family,
             "resources": list(t.resources), "source": t.source} for t in tasks]
    return RunDir.open(path, identity, {"tasks": meta, "environment": environment(),
                                        **(extra or {})})


def results_of(run: RunDir) -> dict[str, Any]:
    """A run's `results.json` document, computed from what `samples.jsonl` holds now."""
    identity = run.info["identity"]
    records = list(run.load("samples").values())
    state = _State(run, {}, {key_of(r): r for r in records})
    finished = sum(state.finished(t["id"], s, identity["turns"])
                   for t in run.info["tasks"] for s in range(identity["samples"]))
    return {
        "schema_version": SCHEMA_VERSION, "model": identity["model"],
        "samples_finished": finished,
        "complete": finished == len(run.info["tasks"]) * identity["samples"],
        **summarise(records, run.info["tasks"], identity["ks"], identity["turns"]),
    }


@dataclass(frozen=True)
class Progress:
    """Samples finished (passed, or out of turns) of all samples in the run."""

    done: int
    total: int
    phase: str


def run_eval(tasks: Sequence[Task], run: RunDir, config: EvalConfig, *,
             backend: Backend | None, verifier: Verifier, pool: Pool | None = None,
             cache: VerdictCache | None = None,
             on_progress: Callable[[Progress], None] | None = None) -> list[dict[str, Any]]:
    """Evaluate `tasks` into `run`, resuming what it holds; returns every sample record."""
    if backend is None and not config.references:
        raise IacforgeError("a model run needs a backend")
    if verifier.options.fail_on != config.fail_on:
        raise ConfigError(f"the verifier fails on {verifier.options.fail_on}, the run on "
                          f"{config.fail_on}: give both the same fail_on")
    state = _State(run, run.load("replies"), run.load("samples"))
    total = len(tasks) * config.samples

    def report(phase: str) -> None:
        if on_progress is not None:
            done = sum(state.finished(t.id, s, config.turns)
                       for t in tasks for s in range(config.samples))
            on_progress(Progress(done, total, phase))

    report("resume")
    for start in range(0, len(tasks), config.chunk):
        chunk = tasks[start:start + config.chunk]
        for turn in range(1, config.turns + 1):
            due = [(t, s) for t in chunk for s in range(config.samples) if state.due(t.id, s, turn)]
            if not due:
                continue
            report("generate")
            _generate(state, due, turn, config, backend)
            report("verify")
            _verify(state, due, turn, config, verifier, pool, cache)
            report("verified")
    return list(state.samples.values())


@dataclass
class _State:
    run: RunDir
    replies: dict[Key, dict[str, Any]]
    samples: dict[Key, dict[str, Any]]

    def due(self, task_id: str, sample: int, turn: int) -> bool:
        """True when (task, sample) needs an attempt in `turn` that is not written yet."""
        if (task_id, sample, turn) in self.samples:
            return False
        if turn == 1:
            return True
        previous = self.samples.get((task_id, sample, turn - 1))
        return previous is not None and not previous["passed"]

    def finished(self, task_id: str, sample: int, turns: int) -> bool:
        last = max((t for t in range(1, turns + 1) if (task_id, sample, t) in self.samples),
                   default=None)
        return last is not None and (last == turns or self.samples[(task_id, sample, last)]
                                     ["passed"])


def _generate(state: _State, due: list[tuple[Task, int]], turn: int, config: EvalConfig,
              backend: Backend | None) -> None:
    """Ask the backend for every missing reply of this turn and write them."""
    missing = [(t, s) for t, s in due if (t.id, s, turn) not in state.replies]
    if not missing:
        return
    start = time.monotonic()
    if config.references:
        texts = ["" for _ in missing]
    else:
        assert backend is not None
        texts = _ask(backend, [_messages(state, t, s, turn) for t, s in missing], turn, config)
    share = (time.monotonic() - start) / len(missing)
    records = [{"task_id": t.id, "sample": s, "turn": turn, "reply": text,
                "generate_seconds": round(share, 4)}
               for (t, s), text in zip(missing, texts, strict=True)]
    state.run.append("replies", records)
    state.replies.update((key_of(r), r) for r in records)


def _ask(backend: Backend, prompts: list[Messages], turn: int, config: EvalConfig) -> list[str]:
    """One reply per prompt. Identical first-turn prompts (samples of one task) go as one
    prompt with `n`, the way a backend samples several completions best."""
    sampling = turn_sampling(config.sampling, turn)
    groups: dict[str, list[int]] = {}
    for index, prompt in enumerate(prompts):
        groups.setdefault(json.dumps(prompt, sort_keys=True), []).append(index)
    by_size: dict[int, list[list[int]]] = {}
    for indices in groups.values():
        by_size.setdefault(len(indices), []).append(indices)
    texts: list[str] = [""] * len(prompts)
    for n, members in by_size.items():
        replies = backend.generate([prompts[m[0]] for m in members], n, sampling)
        if len(replies) != len(members) or any(len(r) != n for r in replies):
            raise IacforgeError(f"the backend returned {[len(r) for r in replies]} replies for "
                                f"{len(members)} prompts × {n}")
        for indices, got in zip(members, replies, strict=True):
            for index, text in zip(indices, got, strict=True):
                texts[index] = text
    return texts


def _messages(state: _State, task: Task, sample: int, turn: int) -> Messages:
    first = task.request().first_prompt()
    if turn == 1:
        return first
    previous = state.samples[(task.id, sample, turn - 1)]
    return repair_messages(first, previous["reply"],
                           Certificate.from_dict(previous["certificate"]))


def _verify(state: _State, due: list[tuple[Task, int]], turn: int, config: EvalConfig,
            verifier: Verifier, pool: Pool | None, cache: VerdictCache | None) -> None:
    """Verify this turn's replies in one batch (tasks with and without an intent together)."""
    def judge(candidates: Sequence[Candidate],
              intents: Sequence[IntentPolicy | None]) -> list[Certificate]:
        return verify_all(candidates, intents, verifier=verifier, pool=pool, cache=cache,
                          progress=False)

    requests = [t.request() for t, _ in due]
    start = time.monotonic()
    if config.references:
        candidates = [Candidate(dict(t.reference), f"{t.id} {REFERENCE}") for t, _ in due]
        certs = judge(candidates, [r.intent for r in requests])
    else:
        candidates, certs = judge_replies(
            judge, requests, [state.replies[(t.id, s, turn)]["reply"] for t, s in due],
            [f"{t.id} sample {s} turn {turn}" for t, s in due])
    share = (time.monotonic() - start) / len(due)
    records = [_sample_record(state, t, s, turn, c, cert, share)
               for (t, s), c, cert in zip(due, candidates, certs, strict=True)]
    state.run.append("samples", records)
    state.samples.update((key_of(r), r) for r in records)


def _sample_record(state: _State, task: Task, sample: int, turn: int, candidate: Candidate,
                   cert: Certificate, verify_seconds: float) -> dict[str, Any]:
    reply = state.replies[(task.id, sample, turn)]
    return {
        "task_id": task.id, "sample": sample, "turn": turn,
        "prompt_hash": _hash(json.dumps(task.request().first_prompt(), sort_keys=True)),
        "reply": reply["reply"],
        "files": [{"name": n, "text": t} for n, t in sorted(candidate.files.items())],
        "problems": list(candidate.problems), "content_hash": candidate.content_hash(),
        "certificate": cert.to_dict(), "reward": reward(cert), "passed": cert.passed,
        "generate_seconds": reply["generate_seconds"],
        "verify_seconds": round(verify_seconds, 4),
    }


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
