"""The verifier reward on real Terraform: scale, stage counts, mutations, the cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iacforge.generate import Request
from iacforge.train.rewards import VerifierReward

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).parents[2] / "examples"
GOOD = (EXAMPLES / "pass_queue" / "main.tf").read_text()
INTENT = (EXAMPLES / "pass_queue" / "intent.rego").read_text()
NO_PLAN = (EXAMPLES / "fail_plan" / "main.tf").read_text()  # validates, plan fails


def reply(text: str) -> list[dict[str, str]]:
    return [{"role": "assistant", "content": f"```hcl main.tf\n{text}```"}]


def test_rewards_follow_the_scale_and_count_each_formal_stage():
    fn = VerifierReward(cache=False)
    logged: dict[str, float] = {}
    rewards = fn(prompts=[[]] * 3,
                 completions=[reply(GOOD), reply("locals {\n"), reply(NO_PLAN)],
                 intent=[INTENT, "", ""], files=["{}"] * 3,
                 log_metric=logged.__setitem__)
    # full pass with every intent rule true; broken HCL; validates but does not plan
    assert rewards == [2.0, 0.0, 0.5]
    counts = fn.take_counts()
    assert counts.passed == {"fv1_validate": 2, "fv2_plan": 1, "fv3_intent": 1}
    assert (counts.total, counts.with_intent) == (3, 1)
    assert logged["fv1_validate_rate"] == pytest.approx(2 / 3)
    assert logged["fv3_intent_rate"] == 1.0
    assert fn.take_counts().total == 0
    fn.close()


def test_certificates_asked_for_directly_are_counted_too():
    # the multi-turn rollouts verify through `certificates`, not through the TRL call
    fn = VerifierReward(("validate",), cache=False)
    candidates = [Request("").candidate(f"```hcl main.tf\n{text}```", f"c{i}")
                  for i, text in enumerate((GOOD, "locals {\n"))]
    certs = fn.certificates(candidates, [None, None])
    assert [c.passes("validate") for c in certs] == [True, False]
    counts = fn.take_counts()
    assert (counts.total, counts.passed["fv1_validate"]) == (2, 1) and counts.seconds > 0
    fn.close()


def test_a_mutation_reply_keeps_the_input_files_it_leaves_out():
    fn = VerifierReward(stages=("validate",), cache=False)
    files = json.dumps({"main.tf": GOOD})
    extra = 'output "n" {\n  value = aws_sqs_queue.orders.name\n}\n'
    answer = [{"role": "assistant", "content": f"```hcl outputs.tf\n{extra}```"}]
    # alone, outputs.tf names a resource that does not exist; beside main.tf it validates
    assert fn(prompts=[[]] * 2, completions=[answer, answer], intent=["", ""],
              files=[files, "{}"]) == [0.5, 0.0]
    fn.close()


def test_the_files_column_is_read_as_the_task_format_stores_it():
    """TRL hands each dataset column over as stored: a list of {name, text} for a mutation
    task, [] for a generation task (or a JSON string, or a mapping, from older files)."""
    fn = VerifierReward(stages=("validate",), cache=False)
    extra = 'output "n" {\n  value = aws_sqs_queue.orders.name\n}\n'
    answer = [{"role": "assistant", "content": f"```hcl outputs.tf\n{extra}```"}]
    forms = [[{"name": "main.tf", "text": GOOD}], {"main.tf": GOOD},
             json.dumps([{"name": "main.tf", "text": GOOD}]), [], None]
    assert fn(prompts=[[]] * 5, completions=[answer] * 5, intent=[""] * 5,
              files=forms) == [0.5, 0.5, 0.5, 0.0, 0.0]
    fn.close()


def test_files_in_no_known_shape_are_refused():
    from iacforge.train.rewards import start_files

    with pytest.raises(ValueError, match="must be a list of"):
        start_files([["main.tf", "locals {}"]])
