"""The logits processor masks exactly what the grammar forbids, on hand-built token prefixes,
and a real model sampled under it writes only what the schema has."""

from __future__ import annotations

import functools
import re

import pytest

from iacforge.constrain.grammar import grammar_for
from iacforge.llm import BackendOptions, Sampling, load_backend
from iacforge.prompts import generation_prompt

from . import masks

PROMPT = "An SQS queue named jobs."

allowed_after = functools.partial(masks.allowed_after, prompt=PROMPT, references=False)


def test_the_mask_admits_only_the_types_arguments_and_shapes_of_the_schema(constraint, tokenizer):
    start = '```hcl main.tf\nresource "aws_sqs_queue" "jobs" {\n  '
    body = allowed_after(constraint, tokenizer, start)
    assert {"name", "delay", "}"} <= body
    assert not {"bucket", "duration", "{", "resource"} & body  # no S3 argument, no block
    value = allowed_after(constraint, tokenizer, start + "delay_seconds = ")
    assert {"6", "60", "null"} & value and "[" not in value
    # `true` may start a reference (`trueish.x`) or a call, but is no number by itself
    assert "}" not in allowed_after(constraint, tokenizer, start + "delay_seconds = true")
    assert "}" in allowed_after(constraint, tokenizer, start + "delay_seconds = 60\n")
    after = allowed_after(constraint, tokenizer, start + "content_based_deduplication ")
    assert "=" in after and "{" not in after


def test_the_mask_is_lifted_once_the_reply_is_complete(constraint, tokenizer):
    done = allowed_after(constraint, tokenizer, '```hcl main.tf\nlocals {\n}\n```')
    assert tokenizer.eos_token in done and "resource" not in done


@pytest.mark.slow
def test_a_constrained_real_model_names_only_schema_types_and_arguments(constraint, schema):
    backend = load_backend("embedded", BackendOptions(batch_size=25))
    prompt = generation_prompt(PROMPT)
    grammar = grammar_for("schema", PROMPT)
    replies = backend.generate([prompt], 50, Sampling(max_new_tokens=32, temperature=1.0,
                                                      seed=7, constrain="schema"))[0]
    assert len(replies) == 50
    for reply in replies:
        # every reply is a prefix of a reply the grammar accepts (it may be cut by the budget)
        assert constraint.accepts(reply, grammar, prefix=True) is None, reply
        for type_ in re.findall(r'resource\s+"([^"]+)"', reply):
            assert type_ in schema["resource_schemas"], reply
    assert all(r.startswith("```") for r in replies)
