"""The budget guard: in the last tokens of a reply's budget only what closes gets through, where
the grammar allows it; before them, and inside a string, nothing changes."""

from __future__ import annotations

import pytest

from iacforge.constrain.budget import RESERVE

from . import masks

PROMPT = "An SQS queue named q and an IAM role named r."
HEAD = '```hcl main.tf\nresource "aws_sqs_queue" "q" {\n  name = "q"\n'


def allowed(constraint, tokenizer, prefix: str, *, left: int) -> set[str]:
    """The tokens allowed after `prefix` when `left` tokens of the budget remain."""
    used = len(tokenizer(prefix, add_special_tokens=False)["input_ids"])
    return masks.allowed_after(constraint, tokenizer, prefix, prompt=PROMPT,
                               max_new_tokens=used + left)


def test_before_the_reserve_the_mask_is_the_grammar_s(constraint, tokenizer):
    assert {" delay", "}"} <= allowed(constraint, tokenizer, HEAD + " ", left=RESERVE + 1)


@pytest.mark.parametrize("left", [RESERVE, 1])
def test_in_the_reserve_a_body_closes_and_no_new_block_opens(constraint, tokenizer, left):
    body = allowed(constraint, tokenizer, HEAD + " ", left=left)
    assert "}" in body and not {" delay", " #", " tags"} & body
    top = allowed(constraint, tokenizer, HEAD + "}\n", left=left)
    assert "```" in top and not {"resource", "#", "data", "output"} & top


def test_a_string_ends_and_required_arguments_come_before_the_guard(constraint, tokenizer):
    text = allowed(constraint, tokenizer, HEAD + '  policy = "ab', left=4)
    assert "c" in text and "}" in text  # the string goes on: a brace is text there
    role = '```hcl main.tf\nresource "aws_iam_role" "r" {\n  name = "r"\n '
    required = allowed(constraint, tokenizer, role, left=4)
    assert " assume" in required and "}" not in required  # the guard gives way
