"""The line guard: a key or block header and its `=` or `{` stay on one line, and a body's line
does not begin with an operator; what the grammar alone lets through."""

from __future__ import annotations

import functools

import pytest

from iacforge.constrain.lexer import Lexer

from . import masks

allowed_after = functools.partial(masks.allowed_after, prompt="An SQS queue named q.")
HEAD = '```hcl main.tf\nresource "aws_sqs_queue" "q" {\n  name = "q"\n'


@pytest.mark.parametrize("mode", ["schema", "syntax"])
def test_a_key_and_its_equals_sign_stay_on_one_line(constraint, tokenizer, mode):
    key = allowed_after(constraint, tokenizer, HEAD + "  delay_seconds", mode)
    assert " =" in key and not {"\n", " #", "#", " //"} & key
    header = allowed_after(constraint, tokenizer, HEAD + '}\n\nresource "aws_sqs_queue" "r"', mode)
    assert " {" in header and "\n" not in header


@pytest.mark.parametrize("mode", ["schema", "syntax"])
def test_a_value_begins_on_its_key_line(constraint, tokenizer, mode):
    """`prevent_destroy =  # 30 days` then a newline: the adapter's reply no parser took."""
    value = allowed_after(constraint, tokenizer, HEAD + "  delay_seconds =", mode)
    assert {" ", " \""} <= value and not {"\n", " #", "#", " //", " /*", " /"} & value
    path = allowed_after(constraint, tokenizer, HEAD + '  tags = {\n    Path =', mode)
    assert ' "/' in path  # a string may begin with a slash


def test_blanks_after_a_name_stop(constraint, tokenizer):
    # `terraform fmt` aligns `=` past the longest key: 20 blanks after `name` are valid
    assert " " in allowed_after(constraint, tokenizer, HEAD + "  name" + " " * 20)
    assert not {"\t", " \t"} & allowed_after(constraint, tokenizer, HEAD + "  name ")
    assert "\t" not in allowed_after(constraint, tokenizer, HEAD + "  name =")
    many = allowed_after(constraint, tokenizer, HEAD + "  delay_seconds" + " \t" * 32)
    assert "=" in many and not {" ", "\t", "  "} & many


@pytest.mark.parametrize("mode", ["schema", "syntax"])
def test_a_line_of_a_body_begins_with_a_name_a_brace_or_a_comment(constraint, tokenizer, mode):
    start = allowed_after(constraint, tokenizer, HEAD + " ", mode)
    assert {" delay", " #", "}"} & start == {" delay", " #", "}"}
    assert not {" <", "<", " =", " +", " ?"} & start
    after_slash = allowed_after(constraint, tokenizer, HEAD + "  /", mode)
    assert "/" in after_slash and "<" not in after_slash


def test_no_name_follows_a_whole_value_on_its_line(constraint, tokenizer):
    done = allowed_after(constraint, tokenizer, HEAD + '  policy = "q" ')
    assert "\n" in done and not {" delay", "delay", " schedule"} & done
    assert "#" in allowed_after(constraint, tokenizer, HEAD + "  delay_seconds = 1 ")
    assert " +" in allowed_after(constraint, tokenizer, HEAD + "  delay_seconds = 1")
    for_object = HEAD + '  tags = { for k, v in {a = "b"} : k => v '
    assert " if" in allowed_after(constraint, tokenizer, for_object, "syntax")


def test_no_third_blank_line_and_no_endless_indent(constraint, tokenizer):
    assert "\n" in allowed_after(constraint, tokenizer, HEAD + "\n")
    assert not {"\n", "\n\n", " \n"} & allowed_after(constraint, tokenizer, HEAD + "\n\n")
    assert " " in allowed_after(constraint, tokenizer, HEAD + " " * 31)
    assert " " not in allowed_after(constraint, tokenizer, HEAD + " " * 32)


def test_no_carriage_return_anywhere(constraint, tokenizer):
    text = HEAD + '  delay_seconds = 1\n  policy = "a'
    assert not any("\r" in t for t in allowed_after(constraint, tokenizer, text))
    assert "\r" in tokenizer.decode(tokenizer("\r\n")["input_ids"])  # the tokenizer has one


def test_the_lexer_knows_a_body_level_from_a_value():
    lexer = Lexer()
    lexer.feed('resource "a" "b" {\n  x = [\n    ')
    assert not lexer.in_body
    lexer.feed("1\n  ]\n  y = {\n  ")
    assert lexer.in_body and lexer.line == "  "
