"""`constrain` reaches the curation loop and the RL rollouts (and is refused where it cannot)."""

from __future__ import annotations

import pytest

from iacforge.constrain.grammar import grammar_for
from iacforge.data.curate import Curator
from iacforge.errors import IacforgeError
from iacforge.llm import Sampling, ScriptedBackend
from iacforge.prompts import generation_prompt
from iacforge.train.grpo import GRPORun
from iacforge.train.multiturn import MultiTurnRun
from iacforge.train.policy import PolicySampler, load_policy

PROMPT = "An SQS queue named jobs."


def test_curation_repairs_under_the_constraint_but_describes_in_english(tmp_path):
    backend = ScriptedBackend(["A queue for the jobs the workers pick up later today."])
    curator = Curator(tmp_path, backend, sampling=Sampling(constrain="schema"))
    text, by = curator.describe({"main.tf": 'resource "aws_sqs_queue" "q" {}\n'}, None)
    assert by == "llm" and text.startswith("A queue")
    assert backend.calls[0].sampling.constrain == "none"
    assert curator.sampling.constrain == "schema"  # what the repair loop samples with


def test_grpo_refuses_a_constraint_trl_cannot_apply():
    with pytest.raises(IacforgeError, match="multiturn"):
        GRPORun(tasks="t.jsonl", out="o", constrain="schema")
    assert MultiTurnRun(tasks="t.jsonl", out="o", constrain="schema").constrain == "schema"
    with pytest.raises(IacforgeError, match="constrain"):
        MultiTurnRun(tasks="t.jsonl", out="o", constrain="json")


@pytest.mark.slow
def test_policy_rollouts_keep_to_the_grammar(constraint):
    sampler = PolicySampler(*load_policy("embedded"), batch_size=4)
    replies = sampler.generate([generation_prompt(PROMPT)], 4, Sampling(
        max_new_tokens=24, temperature=1.0, seed=2, constrain="schema"))[0]
    grammar = grammar_for("schema", PROMPT)
    for reply in replies:
        assert constraint.accepts(reply, grammar, prefix=True) is None, reply
