"""Reward on hand-built certificates: TerraFormer's scale, None on error, 0 when unsafe, weights."""

import pytest

from iacforge.certificate import Certificate
from iacforge.diagnostics import StageResult
from iacforge.reward import RewardWeights, reward


def cert(*stages: tuple[str, str] | StageResult) -> Certificate:
    results = tuple(s if isinstance(s, StageResult) else StageResult(*s) for s in stages)
    return Certificate("0" * 64, results)


GATES_PASS = (("extract", "pass"), ("parse", "pass"), ("validate", "pass"))


def intent(status: str, true: int, total: int) -> StageResult:
    return StageResult("intent", status, metrics={"rules_true": true, "rules_total": total})


@pytest.mark.parametrize(
    ("stages", "expected"),
    [
        ([("extract", "fail"), ("parse", "skipped"), ("validate", "skipped")], 0.0),
        ([("extract", "pass"), ("parse", "fail"), ("validate", "skipped")], 0.0),
        ([("extract", "pass"), ("parse", "pass"), ("validate", "fail"), ("plan", "skipped")], 0.0),
        ([("extract", "pass"), ("parse", "pass")], 0.0),  # validate never ran
        ([*GATES_PASS], 0.5),  # plan not requested
        ([*GATES_PASS, ("plan", "fail")], 0.5),
        ([*GATES_PASS, ("plan", "skipped")], 0.5),
        ([*GATES_PASS, ("plan", "pass")], 1.0),  # no intent policy
        ([*GATES_PASS, ("plan", "pass"), intent("fail", 0, 4)], 1.0),
        ([*GATES_PASS, ("plan", "pass"), intent("fail", 1, 4)], 1.25),
        ([*GATES_PASS, ("plan", "pass"), intent("fail", 3, 4)], 1.75),
        ([*GATES_PASS, ("plan", "pass"), intent("pass", 4, 4)], 2.0),
        ([*GATES_PASS, ("plan", "pass"), intent("pass", 0, 0)], 2.0),  # no boolean rules
        ([*GATES_PASS, ("plan", "pass"), intent("fail", 0, 0)], 1.0),
        # later stages do not change the default scale
        ([*GATES_PASS, ("plan", "pass"), ("security", "fail"), ("lint", "fail")], 1.0),
    ],
)
def test_the_default_scale(stages, expected):
    assert reward(cert(*stages)) == pytest.approx(expected)


@pytest.mark.parametrize(
    "stages",
    [
        [("extract", "pass"), ("parse", "pass"), ("validate", "error"), ("plan", "skipped")],
        [*GATES_PASS, ("plan", "error")],
        [*GATES_PASS, ("plan", "pass"), ("intent", "error")],
        [("extract", "error")],
        # the screen is part of FV-i (iacforge.formal): its crash is the verifier's, not a 0
        [("extract", "pass"), ("parse", "pass"), ("screen", "error"), ("validate", "skipped")],
    ],
    ids=["validate", "plan", "intent", "extract", "screen"],
)
def test_a_verifier_error_on_the_scale_earns_none(stages):
    assert reward(cert(*stages)) is None


def test_a_failure_before_an_error_still_judges_the_candidate():
    assert reward(cert(("extract", "pass"), ("parse", "fail"), ("validate", "error"))) == 0.0


def test_an_error_in_a_stage_off_the_scale_does_not_void_the_reward():
    assert reward(cert(*GATES_PASS, ("plan", "pass"), ("security", "error"))) == 1.0


@pytest.mark.parametrize("where", ["validate", "plan", "security"])
def test_an_unsafe_candidate_earns_zero_whatever_the_weights(where):
    stages = [*GATES_PASS, ("plan", "pass"), ("security", "pass"), ("lint", "pass")]
    stages = [(name, "unsafe" if name == where else status) for name, status in stages]
    weights = RewardWeights(security=1.0, lint=1.0, apply=1.0)
    assert reward(cert(*stages), weights) == 0.0


def test_weights_add_security_compliance_lint_and_apply():
    stages = (
        *GATES_PASS,
        ("plan", "pass"),
        intent("pass", 2, 2),
        StageResult("security", "fail", metrics={"compliance": 0.8}),
        ("lint", "pass"),
        ("apply", "pass"),
    )
    assert reward(cert(*stages)) == 2.0
    weights = RewardWeights(security=0.5, lint=0.25, apply=0.1)
    assert reward(cert(*stages), weights) == pytest.approx(2.0 + 0.4 + 0.25 + 0.1)


def test_weights_count_only_stages_that_passed_or_were_judged():
    stages = (
        *GATES_PASS,
        ("plan", "fail"),
        StageResult("security", "error", metrics={"compliance": 1.0}),
        ("lint", "fail"),
        ("apply", "skipped"),
    )
    assert reward(cert(*stages), RewardWeights(security=1.0, lint=1.0, apply=1.0)) == 0.5


def test_weights_never_rescue_a_void_reward():
    stages = (*GATES_PASS, ("plan", "error"), ("lint", "pass"))
    assert reward(cert(*stages), RewardWeights(lint=1.0)) is None
