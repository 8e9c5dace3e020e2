"""The reference guard: a reference names only blocks declared earlier in the reply and
attributes their schema has; text that is not an expression is left alone."""

from __future__ import annotations

import functools

import pytest

from iacforge.constrain.lexer import Lexer

from . import masks

PROMPT = "An SQS queue named jobs with a dead-letter queue, and its policy."
HEAD = ('```hcl main.tf\nresource "aws_sqs_queue" "dlq" {\n  name = "d"\n}\n\n'
        'data "aws_iam_policy_document" "p" {\n}\n\n'
        'resource "aws_sqs_queue" "jobs" {\n  name = "j"\n')

allowed_after = functools.partial(masks.allowed_after, prompt=PROMPT)


def test_a_reference_names_a_declared_block_and_an_attribute_of_its_type(constraint, tokenizer):
    value = HEAD + "  redrive_policy = jsonencode({ deadLetterTargetArn = "
    assert allowed_after(constraint, tokenizer, value + "aws_sqs_queue.") == {"d", "dl"}
    attrs = allowed_after(constraint, tokenizer, value + "aws_sqs_queue.dlq.")
    assert {"arn", "id", "url", "name"} & attrs and not {"bucket", "status"} & attrs
    assert allowed_after(constraint, tokenizer, value + "aws_s") == {"q", "qs"}
    done = allowed_after(constraint, tokenizer, value + "aws_sqs_queue.dlq.arn")
    assert {" ", "\n", "}"} <= done and not {"_", ".", "["} & done  # a string ends there
    tags = allowed_after(constraint, tokenizer, value + "aws_sqs_queue.dlq.tags")
    assert {".", "["} <= tags  # a map goes on
    data = allowed_after(constraint, tokenizer, value + "data.aws_iam_policy_document.p.")
    assert "json" in data and "arn" not in data


def test_a_block_with_nothing_declared_before_it_names_no_block(constraint, tokenizer):
    """The adapter wrote `target_arns = [aws_api_gateway_vpc_link.main.arns_a64]` inside that
    block, the first in its reply: `aws` matched no declared block and the guard let it go."""
    first = '```hcl main.tf\nresource "aws_sqs_queue" "jobs" {\n  name = "j"\n'
    assert "aws" not in allowed_after(constraint, tokenizer, first + "  policy = ")
    assert not {"s", "s_", "s-"} & allowed_after(constraint, tokenizer, first + "  policy = aw")
    assert "_" in allowed_after(constraint, tokenizer, HEAD + "  policy = aws")
    # blocked from `aws_`, the adapter wrote `aws-api-gateway-vpc_arns.main` and `aws.x`
    after = allowed_after(constraint, tokenizer, HEAD + "  policy = aws")
    assert not {"-", ".", "-api"} & after


def test_a_reference_that_begins_a_line_of_a_tuple_is_checked(constraint, tokenizer):
    """`target_arns = [` then the block's own address on the next line: Self-referential."""
    tuple_ = HEAD + "  policy = jsonencode([\n    aws_sqs_queue."
    assert allowed_after(constraint, tokenizer, tuple_) == {"d", "dl"}


def test_a_block_with_count_is_named_with_an_instance_key(constraint, tokenizer):
    counted = HEAD.replace('"dlq" {\n', '"dlq" {\n  count = 2\n')
    after = allowed_after(constraint, tokenizer, counted + "  policy = aws_sqs_queue.dlq")
    assert "[" in after and "." not in after
    lexer = Lexer()
    lexer.feed(counted)
    assert lexer.counted == {("resource", "aws_sqs_queue", "dlq")}


def test_a_provider_meta_argument_names_only_a_declared_alias(constraint, tokenizer):
    """Held to `aws.<name>` by the grammar, the 41-family adapter made up the name."""
    plain = allowed_after(constraint, tokenizer, HEAD + "  provider = aws")
    assert "\n" in plain and "." not in plain
    west = ('```hcl main.tf\nprovider "aws" {\n  alias  = "west"\n  region = "us-west-2"\n}\n\n'
            'resource "aws_sqs_queue" "q" {\n  name     = "q"\n  provider = aws.')
    assert "w" in allowed_after(constraint, tokenizer, west)
    assert not {"e", "east"} & allowed_after(constraint, tokenizer, west)
    lexer = Lexer()
    lexer.feed(west)
    assert lexer.aliases == {"west"}


def test_text_that_is_no_expression_is_not_guarded(constraint, tokenizer):
    in_string = allowed_after(constraint, tokenizer, HEAD + '  policy = "aws_s')
    assert "3" in in_string  # a string may say anything
    key = allowed_after(constraint, tokenizer, HEAD + "  tags = {\n    aws_")
    assert "region" in key


@pytest.mark.parametrize(("text", "declared", "expression"), [
    ('resource "aws_a" "x" {\n}\nresource "aws_b" "y" {\n  v = ', {("resource", "aws_a", "x")},
     True),
    ('data "aws_a" "x" {\n  k = "}"\n}\n', {("data", "aws_a", "x")}, False),
    ('resource "aws_a" "x" {\n  p = <<EOT\n}\n = aws_\nEOT\n  q = [1, ', set(), True),
    ('resource "aws_a" "x" {\n  # = {\n  q = "${', set(), True),
    ('resource "aws_a" "x" {\n  q = "${x}" ', set(), False),
    ("locals {\n  m = {\n    ", set(), False),
    ("locals {\n  m = [\n    ", set(), True),
    ("locals {\n  m = f(1,\n    ", set(), True),
])
def test_the_lexer_tracks_declarations_and_expression_positions(text, declared, expression):
    lexer = Lexer()
    lexer.feed(text)
    assert lexer.declared == declared
    assert lexer.expression is expression
