"""The reward a certificate earns: TerraFormer's scale, plus optional documented weights.

Default scale (TerraFormer):
    0              FV-i (extract, parse, screen, validate) did not pass
    0.5            validate passed, plan (FV-ii) did not (or was not run)
    1 + k/n        plan passed; k of the intent policy's n boolean rules are true
                   (1.0 when no intent policy was given)
Optional weights add to that: `security * compliance` (checkov passed / (passed + failed)),
`lint * [lint passed]`, `apply * [apply passed]`. An `unsafe` candidate earns 0 whatever the
weights. When a stage the scale depends on ended in `error` (the verifier could not judge),
the reward is None: TRL's reward contract for "no reward for this sample".
"""

from __future__ import annotations

from dataclasses import dataclass

from iacforge.certificate import Certificate
from iacforge.formal import FV1


@dataclass(frozen=True)
class RewardWeights:
    """Extra terms added to the default scale; all zero by default."""

    security: float = 0.0
    lint: float = 0.0
    apply: float = 0.0


def reward(cert: Certificate, weights: RewardWeights = RewardWeights()) -> float | None:
    """The reward for one certificate, or None when the verifier could not judge it."""
    if any(s.status == "unsafe" for s in cert.stages):
        return 0.0
    base = _base(cert)
    if base is None:
        return None
    return base + _extras(cert, weights)


def _base(cert: Certificate) -> float | None:
    for name in FV1:
        stage = cert.stage(name)
        if stage is None:
            continue
        if stage.status == "error":
            return None
        if not stage.passed:
            return 0.0
    if not cert.passes(FV1[-1]):
        return 0.0
    plan = cert.stage("plan")
    if plan is None or plan.status in ("fail", "skipped"):
        return 0.5
    if plan.status == "error":
        return None
    intent = cert.stage("intent")
    if intent is None:
        return 1.0
    if intent.status == "error":
        return None
    total = intent.metrics.get("rules_total", 0)
    return 1.0 + (intent.metrics.get("rules_true", 0) / total if total else
                  float(intent.status == "pass"))


def _extras(cert: Certificate, weights: RewardWeights) -> float:
    extra = 0.0
    security = cert.stage("security")
    if weights.security and security is not None and security.status in ("pass", "fail"):
        extra += weights.security * float(security.metrics.get("compliance", 0.0))
    if weights.lint and cert.passes("lint"):
        extra += weights.lint
    if weights.apply and cert.passes("apply"):
        extra += weights.apply
    return extra
