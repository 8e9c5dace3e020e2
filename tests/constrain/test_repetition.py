"""The repetition guard: no fourth comment line in a row, no key set twice in one body, no block
named like an earlier one of its type; the first time of each stays free."""

from __future__ import annotations

import functools

from iacforge.constrain.lexer import Lexer

from . import masks

PROMPT = "An S3 bucket named logs with versioning, and an SQS queue."
HEAD = '```hcl main.tf\nresource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n'

allowed_after = functools.partial(masks.allowed_after, prompt=PROMPT)


def test_a_key_set_in_a_body_is_not_set_again_there(constraint, tokenizer):
    body = HEAD + "  force_destroy = true\n  tags = {\n    Name = \"a\"\n  }\n"
    again = allowed_after(constraint, tokenizer, body)
    assert " force" not in again and " object" in again  # other arguments stay free
    assert " bucket" in again  # `bucket_prefix` is a key too, but `bucket` may not end there
    ended = allowed_after(constraint, tokenizer, body + "  bucket")
    assert "_" in ended and not {" ", " =", "="} & ended
    tags = HEAD + "  tags = {\n    Name = \"a\"\n   "
    assert {" Name", " Environment"} <= allowed_after(constraint, tokenizer, tags)  # free keys
    ended = allowed_after(constraint, tokenizer, tags + " Name")
    assert "d" in ended and not {" ", " =", "="} & ended
    fresh = allowed_after(constraint, tokenizer, '```hcl main.tf\nresource "aws_s3_bucket" "b" {\n')
    assert " bucket" in fresh


def test_count_and_for_each_exclude_each_other(constraint, tokenizer):
    counted = allowed_after(constraint, tokenizer, HEAD + "  count = 1\n  for")
    assert "_" not in counted and "ce" in counted  # `force_destroy` is still free
    assert " count" not in allowed_after(constraint, tokenizer, HEAD + "  for_each = {}\n ")


def test_a_lifecycle_key_is_not_set_twice(constraint, tokenizer):
    cycle = HEAD + "  lifecycle {\n    create_before_destroy = true\n   "
    assert not {" create", " create_before"} & allowed_after(constraint, tokenizer, cycle)
    assert " prevent" in allowed_after(constraint, tokenizer, cycle)


def test_a_block_that_may_appear_once_is_not_opened_again(constraint, tokenizer):
    """The 41-family adapter wrote `lifecycle { … }` until its budget ran out."""
    cycle = HEAD + "  lifecycle {\n    prevent_destroy = true\n  }\n "
    ended = allowed_after(constraint, tokenizer, cycle + " lifecycle")
    assert "_" in ended and not {" ", " {", "{"} & ended  # `lifecycle_rule` is still free
    assert " {" in allowed_after(constraint, tokenizer, HEAD + "  lifecycle")
    versioning = ('```hcl main.tf\nresource "aws_s3_bucket_versioning" "v" {\n  bucket = "b"\n'
                  '  versioning_configuration {\n    status = "Enabled"\n  }\n ')
    assert " versioning" not in allowed_after(constraint, tokenizer, versioning)  # max_items 1
    rules = ('```hcl main.tf\nresource "aws_s3_bucket_lifecycle_configuration" "l" {\n'
             '  bucket = "b"\n  rule {\n    id = "a"\n    status = "Enabled"\n  }\n ')
    assert " rule" in allowed_after(constraint, tokenizer, rules)  # a list of rules


def test_a_key_is_not_spelled_again_in_pieces_that_only_it_continues(constraint, tokenizer):
    rule = ('```hcl main.tf\nresource "aws_cloudwatch_event_rule" "r" {\n'
            '  schedule_expression = "rate(1 hour)"\n ')
    allowed = allowed_after(constraint, tokenizer, rule)
    pieces = {" sc", " sch", " sched", " schedule"} & set(tokenizer.get_vocab() and
                                                            [tokenizer.decode([i]) for i in
                                                             range(len(tokenizer))])
    assert pieces and not pieces & allowed
    assert " s" in allowed and " name" in allowed  # `state`, `name` are still to be set


def test_a_block_does_not_take_the_name_of_an_earlier_one_of_its_type(constraint, tokenizer):
    ended = allowed_after(constraint, tokenizer, HEAD + '}\n\nresource "aws_s3_bucket" "logs')
    assert '"' not in ended and '" {' not in ended and "_" in ended
    other = allowed_after(constraint, tokenizer, HEAD + '}\n\nresource "aws_sqs_queue" "logs')
    assert '"' in other


def test_a_run_of_comment_lines_ends_at_three(constraint, tokenizer):
    for mode in ("schema", "syntax"):
        two = allowed_after(constraint, tokenizer, HEAD + "  # one\n\n  # two\n ", mode)
        assert " #" in two
        run = HEAD + "  # one\n\n  # two\n  # three\n "
        three = allowed_after(constraint, tokenizer, run, mode)
        assert " #" not in three and "#" not in three and " /" not in three
        assert " tags" in three
        after_code = allowed_after(
            constraint, tokenizer, HEAD + "  # one\n  # two\n  # three\n  tags = {}\n ", mode)
        assert " #" in after_code


def test_the_lexer_knows_the_keys_of_each_open_body_and_the_comment_run():
    lexer = Lexer()
    lexer.feed('resource "aws_a" "x" {\n  a = 1\n  b = { c = 2 }\n  d {\n    e = "=" \n    ')
    assert lexer.naming() == ("", {"e"}, set())
    assert lexer.body() == (("resource", "aws_a", "x"), ("d",))
    lexer.feed('f = {\n')
    assert lexer.body() is None  # an object's keys are no block's
    lexer.feed("}\n}\n  # note\n  // note\n  /* note */\n  ")
    assert lexer.naming() == ("", {"a", "b"}, {"d"})
    assert lexer.comment_lines == 3 and lexer.at_line_start
    lexer.feed('f = "y"\n}\ndata "aws_a" "z" {\n}\nresource "aws_a" "')
    assert lexer.naming() == ("", {"x"}, set()) and lexer.comment_lines == 0


def test_comments_stop_at_twelve_in_all(constraint, tokenizer):
    def after(count: int) -> set[str]:
        lines = "".join(f"  # c{i}\n  x{i} = 1\n" for i in range(count))
        return allowed_after(constraint, tokenizer, HEAD + lines + " ", "syntax")

    assert " #" in after(11) and " #" not in after(12)
