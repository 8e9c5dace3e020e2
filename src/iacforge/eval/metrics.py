"""Metrics of a run: TerraFormer's FV-i/FV-ii/FV-iii, lint and security, pass@k, breakdowns.

Each sample is judged on its answer: its best attempt (a full pass first, then reward, then
stages passed, then the earliest turn), which is what `iacforge generate` would return. Per
sample, each criterion is True, False, or None when it could not be judged (the verifier
erred, the stage was not asked for, the task has no intent policy); a None never counts as a
failure and is left out of every denominator.

| criterion | true when |
| --- | --- |
| `compile` (FV-i) | extract, parse, screen and validate passed |
| `deploy` (FV-ii) | … and plan passed |
| `correct` (FV-iii) | … and no leaf of the evaluated Rego `data` is false (IaC-Eval's rule) |
| `correct_strict` | … and the policy's top rule is `true` |
| `lint` | the lint stage passed (a candidate that did not parse fails it) |

`compliance` is checkov's passed / (passed + failed) checks, averaged over the samples the
security stage scanned. pass@k is the unbiased estimator 1 - C(n-c, k) / C(n, k) per task (n
judged samples, c correct), averaged over the tasks with n ≥ k.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from iacforge.certificate import Certificate
from iacforge.diagnostics import FAILING, StageResult
from iacforge.formal import FV1, FV2, FV3
from iacforge.generate import rank

CRITERIA: tuple[str, ...] = ("compile", "deploy", "correct", "correct_strict", "lint")


def pass_at_k(n: int, c: int, k: int) -> float:
    """The unbiased pass@k estimator: 1 - C(n-c, k) / C(n, k), computed stably.

    >>> round(pass_at_k(5, 2, 1), 4), round(pass_at_k(5, 2, 2), 4), pass_at_k(5, 4, 2)
    (0.4, 0.7, 1.0)
    """
    if not 0 <= c <= n or not 1 <= k <= n:
        raise ValueError(f"pass@k needs 0 <= c <= n and 1 <= k <= n; got n={n} c={c} k={k}")
    if n - c < k:
        return 1.0
    return float(1.0 - np.prod(1.0 - k / np.arange(n - c + 1, n + 1)))


@dataclass(frozen=True)
class Outcome:
    """One sample's answer, judged on every criterion."""

    task_id: str
    sample: int
    turn: int
    flags: dict[str, bool | None]
    compliance: float | None
    statuses: dict[str, str]
    #: Where and why the answer falls short of correct (FV-i to FV-iii, both rules), or None.
    failure: dict[str, str] | None = None


def judge(cert: Certificate) -> tuple[dict[str, bool | None], float | None]:
    """The criteria flags and the security compliance of one certificate."""
    compiles, deploys = _gate(cert, FV1), _gate(cert, FV2)
    intent = cert.stage("intent")  # None: the task has no policy, or intent was not asked
    correct: bool | None = None
    strict: bool | None = None
    if intent is not None and deploys is False:
        correct = strict = False
    elif intent is not None and deploys and intent.status in ("pass", "fail"):
        correct = bool(intent.metrics.get("iac_eval_pass", intent.status == "pass"))
        strict = bool(intent.metrics.get("strict_pass", intent.status == "pass"))
    security = cert.stage("security")
    compliance = None
    if security is not None and security.status in ("pass", "fail"):
        compliance = float(security.metrics.get("compliance", security.status == "pass"))
    flags = {"compile": compiles, "deploy": deploys, "correct": correct,
             "correct_strict": strict, "lint": _judged(cert, "lint")}
    return flags, compliance


def outcomes(records: Iterable[dict[str, Any]], upto_turn: int | None = None) -> list[Outcome]:
    """The answer of every (task, sample) in `records`, from its attempts up to `upto_turn`."""
    attempts: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for record in records:
        if upto_turn is None or record["turn"] <= upto_turn:
            attempts.setdefault((record["task_id"], record["sample"]), []).append(record)
    result = []
    for (task_id, sample), tries in sorted(attempts.items()):
        best = max(tries, key=_rank)
        cert = Certificate.from_dict(best["certificate"])
        flags, compliance = judge(cert)
        result.append(Outcome(task_id, sample, best["turn"], flags, compliance,
                              {s.stage: s.status for s in cert.stages}, _failure(cert, flags)))
    return result


@dataclass
class Tally:
    """Counts of one group of samples: c and n per criterion, and compliance values."""

    samples: int = 0
    counts: dict[str, list[int]] = field(default_factory=lambda: {c: [0, 0] for c in CRITERIA})
    compliance: list[float] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.samples += 1
        for name, flag in outcome.flags.items():
            if flag is not None:
                self.counts[name][0] += int(flag)
                self.counts[name][1] += 1
        if outcome.compliance is not None:
            self.compliance.append(outcome.compliance)

    def rates(self) -> dict[str, float | None]:
        rates: dict[str, float | None] = {
            name: (c / n if n else None) for name, (c, n) in self.counts.items()}
        rates["compliance"] = float(np.mean(self.compliance)) if self.compliance else None
        return rates


def summarise(records: Sequence[dict[str, Any]], tasks: Sequence[dict[str, Any]],
              ks: Sequence[int], turns: int = 1) -> dict[str, Any]:
    """The metrics of a run (the `results.json` document; see the README for its schema).

    Args:
        records: the run's sample records (`samples.jsonl`).
        tasks: `{"id", "difficulty", "family"}` for every task of the run.
        ks: the k of pass@k.
        turns: the run's turns; `by_turn` gives the rates with answers from turns 1 … turns.
    """
    answers = outcomes(records)
    per_task: dict[str, list[Outcome]] = {}
    for outcome in answers:
        per_task.setdefault(outcome.task_id, []).append(outcome)
    task_rows = [_task_row(meta, per_task.get(meta["id"], []), ks) for meta in tasks]
    seconds = sum(r.get("generate_seconds", 0) + r.get("verify_seconds", 0) for r in records)
    return {
        "overall": {**_group(task_rows, answers, ks),
                    "seconds_per_task": seconds / len(tasks) if tasks else None},
        "by_difficulty": _breakdown(task_rows, per_task, ks, "difficulty"),
        "by_family": _breakdown(task_rows, per_task, ks, "family"),
        "by_turn": {str(t): _tally(outcomes(records, t)).rates() for t in range(1, turns + 1)},
        "stages": _stage_counts(answers),
        "tasks": task_rows,
    }


def _task_row(meta: dict[str, Any], answers: list[Outcome], ks: Sequence[int]) -> dict[str, Any]:
    tally = _tally(answers)
    failing = next((o for o in sorted(answers, key=lambda o: o.sample) if o.failure), None)
    return {
        "task_id": meta["id"], "difficulty": meta.get("difficulty"),
        "family": meta.get("family"), "samples": tally.samples,
        "counts": {name: list(cn) for name, cn in tally.counts.items()},
        "pass_at_k": _pass_at_ks(tally, ks), "rates": tally.rates(),
        "failure": failing.failure if failing else None,
    }


def _pass_at_ks(tally: Tally, ks: Sequence[int]) -> dict[str, dict[str, float | None]]:
    return {name: {str(k): pass_at_k(n, c, k) if n >= k else None for k in ks}
            for name, (c, n) in tally.counts.items()}


def _group(rows: list[dict[str, Any]], answers: list[Outcome],
           ks: Sequence[int]) -> dict[str, Any]:
    """Rates over the samples of a group, and pass@k averaged over its tasks."""
    tally = _tally(answers)
    averaged: dict[str, dict[str, float | None]] = {}
    for name in CRITERIA:
        averaged[name] = {}
        for k in ks:
            values = [r["pass_at_k"][name][str(k)] for r in rows
                      if r["pass_at_k"][name][str(k)] is not None]
            averaged[name][str(k)] = float(np.mean(values)) if values else None
    errors = sum(any(s == "error" for s in o.statuses.values()) for o in answers)
    return {"tasks": len(rows), "samples": tally.samples, "rates": tally.rates(),
            "pass_at_k": averaged, "verifier_errors": errors}


def _breakdown(rows: list[dict[str, Any]], per_task: dict[str, list[Outcome]],
               ks: Sequence[int], key: str) -> dict[str, Any]:
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row[key]) if row[key] is not None else "unknown", []).append(row)
    return {label: _group(members, [o for r in members for o in per_task.get(r["task_id"], [])],
                          ks)
            for label, members in sorted(groups.items(), key=lambda kv: _natural(kv[0]))}


def _stage_counts(answers: list[Outcome]) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for outcome in answers:
        for stage, status in outcome.statuses.items():
            counts.setdefault(stage, {}).setdefault(status, 0)
            counts[stage][status] += 1
    return counts


def _tally(answers: Iterable[Outcome]) -> Tally:
    tally = Tally()
    for outcome in answers:
        tally.add(outcome)
    return tally


def _gate(cert: Certificate, stages: tuple[str, ...]) -> bool | None:
    """True when every stage of `stages` that ran passed and the last one ran; False at the
    first that failed; None when the verifier could not judge or the last was not asked."""
    for name in stages:
        result = cert.stage(name)
        if result is None:
            continue
        if result.status in FAILING:
            return False
        if result.status != "pass":
            return None
    return True if cert.stage(stages[-1]) is not None else None


def _judged(cert: Certificate, name: str) -> bool | None:
    result = cert.stage(name)
    if result is None or result.status == "error":
        return None
    if result.status == "skipped":
        blocked = any(s.status in FAILING for s in cert.stages)
        return False if blocked else None
    return result.status == "pass"


def _rank(record: dict[str, Any]) -> tuple[bool, float, int, int, int]:
    """The repair loop's choice of answer (`iacforge.generate.rank`) for a sample record."""
    stages = sum(s["status"] == "pass" for s in record["certificate"]["stages"])
    return rank(bool(record["passed"]), record.get("reward"), stages, record["turn"],
                record["sample"])


def _failure(cert: Certificate, flags: dict[str, bool | None]) -> dict[str, str] | None:
    """The first stage on the way to a correct answer that did not pass, and its evidence."""
    for name in FV3:
        result = cert.stage(name)
        if result is not None and result.status not in ("pass", "skipped"):
            return _evidence(name, result)
    if flags["correct_strict"] is False:
        intent = cert.stage("intent")
        assert intent is not None  # strict is judged only when intent ran
        return _evidence("intent (strict)", intent, severities=("error", "warning"))
    return None


def _evidence(stage: str, result: StageResult,
              severities: tuple[str, ...] = ("error",)) -> dict[str, str]:
    found = next((d for d in result.diagnostics if d.severity in severities), None)
    if found is None:
        return {"stage": stage, "status": result.status, "summary": "", "detail": ""}
    summary = f"{found.where()}: {found.summary}" if found.where() else found.summary
    return {"stage": stage, "status": result.status, "summary": summary,
            "detail": found.detail.strip().splitlines()[0] if found.detail.strip() else ""}


def _natural(label: str) -> tuple[int, float, str]:
    """Sort numeric labels by value ("2" before "10"), then the rest by name."""
    try:
        return (0, float(label), label)
    except ValueError:
        return (1, 0.0, label)
