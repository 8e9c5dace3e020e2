"""Sample records built by hand: a certificate per verdict, as the harness writes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from iacforge.certificate import Certificate
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.reward import reward

#: Verdicts by name: the stage statuses (in pipeline order) and the intent judgements.
CHAIN = ("extract", "parse", "screen", "validate", "plan", "intent", "security", "lint")
VERDICTS: dict[str, dict[str, Any]] = {
    # passes everything, both intent rules
    "correct": {"fail_at": None, "iac_eval": True, "strict": True},
    # the IaC-Eval rule passes (no false leaf) but the top rule is undefined
    "lenient": {"fail_at": None, "iac_eval": True, "strict": False},
    "wrong_intent": {"fail_at": "intent", "iac_eval": False, "strict": False},
    "no_plan": {"fail_at": "plan"},
    "no_compile": {"fail_at": "validate"},
    "no_parse": {"fail_at": "parse"},
    "plan_error": {"error_at": "plan"},
}
Record = Callable[..., dict[str, Any]]


def certificate(verdict: str, *, compliance: float = 1.0, lint: bool = True,
                stages: tuple[str, ...] = CHAIN) -> Certificate:
    spec = VERDICTS[verdict]
    results: list[StageResult] = []
    blocked = False
    for name in stages:
        if name in ("security", "lint"):
            results.append(_side_stage(name, results, compliance, lint))
            continue
        if blocked:
            results.append(StageResult(name, "skipped"))
            continue
        if name == spec.get("error_at"):
            results.append(StageResult(name, "error", (Diagnostic(
                "error", f"{name} could not run", "timed out"),)))
            blocked = True
        elif name == spec.get("fail_at") and name != "intent":
            results.append(StageResult(name, "fail", (Diagnostic(
                "error", f"{name} failed here", "line one\nline two", file="main.tf",
                line=3),)))
            blocked = True
        elif name == "intent":
            metrics = {"iac_eval_pass": spec["iac_eval"], "strict_pass": spec["strict"],
                       "rules_true": 1, "rules_total": 2}
            diagnostics = () if spec["strict"] else (Diagnostic(
                "warning", "intent rule is_valid is undefined"),)
            results.append(StageResult("intent", "pass" if spec["iac_eval"] else "fail",
                                       diagnostics, metrics=metrics))
        else:
            results.append(StageResult(name, "pass"))
    return Certificate("0" * 64, tuple(results))


def _side_stage(name: str, before: list[StageResult], compliance: float,
                lint: bool) -> StageResult:
    if any(r.stage == "parse" and r.status != "pass" for r in before):
        return StageResult(name, "skipped")
    if name == "security":
        return StageResult("security", "pass" if compliance == 1.0 else "fail",
                           metrics={"compliance": compliance})
    return StageResult("lint", "pass" if lint else "fail")


def make_record(task_id: str, sample: int, verdict: str, *, turn: int = 1,
                **options: Any) -> dict[str, Any]:
    """`make_record("t1", 0, "correct", turn=1, compliance=0.5)`: one samples.jsonl record."""
    cert = certificate(verdict, **options)
    return {"task_id": task_id, "sample": sample, "turn": turn, "reply": "", "files": [],
            "certificate": cert.to_dict(), "reward": reward(cert), "passed": cert.passed,
            "generate_seconds": 0.5, "verify_seconds": 1.5}


@pytest.fixture
def record() -> Record:
    return make_record
