"""The grammars accept real configurations and reject each class of error the schema rules out."""

from __future__ import annotations

from pathlib import Path

import pytest

from iacforge.constrain.grammar import grammar_for, schema_grammar, syntax_grammar
from iacforge.constrain.types import likely_types
from iacforge.data.families import FAMILIES
from iacforge.data.loaders import load_tasks
from iacforge.data.synth import generation_task
from iacforge.generate import Request
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import verify_all

FIXTURES = Path(__file__).parents[1] / "fixtures"
GOOD = '''terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = { source = "hashicorp/aws", version = "~> 5.0" }
  }
}

provider "aws" {
  region = var.region # where
}

variable "region" {
  type    = string
  default = "us-east-1"
  validation {
    condition     = length(var.region) > 0
    error_message = "A region, please."
  }
}

locals {
  names = [for i in range(2) : "q-${i}"]
}

resource "aws_sqs_queue" "dlq" {
  name = "jobs-dlq"
}

resource "aws_sqs_queue" "jobs" {
  count                      = 2
  name                       = local.names[count.index]
  visibility_timeout_seconds = 60
  fifo_queue                 = false
  redrive_policy = jsonencode({
    deadLetterTargetArn = aws_sqs_queue.dlq.arn
    maxReceiveCount     = 4
  })
  tags = { Name = "jobs", "team" = "core" }
  lifecycle {
    create_before_destroy = true
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "app-logs"
}

resource "aws_s3_bucket_versioning" "logs" {
  bucket = aws_s3_bucket.logs.id
  versioning_configuration {
    status = "Enabled"
  }
}

data "aws_iam_policy_document" "read" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.logs.arn}/*"]
  }
}

resource "aws_iam_policy" "read" {
  policy = <<-EOT
    ${data.aws_iam_policy_document.read.json}
  EOT
}

output "queue_urls" {
  value = aws_sqs_queue.jobs[*].url
}

module "net" {
  source = "./modules/net"
  cidr   = "10.0.0.0/16"
}
'''
PROMPT = "An SQS queue with a dead-letter queue, an S3 bucket with versioning and an IAM policy."


def reply(text: str) -> str:
    return f"```hcl main.tf\n{text}```"


@pytest.fixture(scope="module")
def grammar() -> str:
    return grammar_for("schema", PROMPT)


def test_both_grammars_accept_a_real_configuration(constraint, grammar):
    assert constraint.accepts(reply(GOOD), grammar) is None
    assert constraint.accepts(reply(GOOD), syntax_grammar()) is None


def test_several_named_files_are_one_reply(constraint, grammar):
    two = reply(GOOD) + "\n\n```hcl outputs.tf\noutput \"x\" {\n  value = 1\n}\n```"
    assert constraint.accepts(two, grammar) is None


@pytest.mark.parametrize(("name", "bad", "good"), [
    ("invented type", 'resource "aws_s3_blob" "b" {\n}\n',
     'resource "aws_s3_bucket" "b" {\n}\n'),
    ("unknown argument", 'resource "aws_sqs_queue" "q" {\n  duration = 60\n}\n',
     'resource "aws_sqs_queue" "q" {\n  delay_seconds = 60\n}\n'),
    ("computed-only argument", 'resource "aws_sqs_queue" "q" {\n  arn = "x"\n}\n',
     'resource "aws_sqs_queue" "q" {\n  name = "x"\n}\n'),
    # the schema lists `id` as optional; validate refuses it (the adapter set it, 2 of 60)
    ("the id terraform sets", 'resource "aws_sqs_queue" "q" {\n  id = "x"\n}\n',
     'resource "aws_sqs_queue" "q" {\n  name = "x"\n}\n'),
    ("block for an argument",
     'resource "aws_sqs_queue" "q" {\n  content_based_deduplication {\n  }\n}\n',
     'resource "aws_sqs_queue" "q" {\n  content_based_deduplication = true\n}\n'),
    ("argument for a block",
     'resource "aws_s3_bucket_versioning" "v" {\n  bucket = "b"\n'
     '  versioning_configuration = { status = "Enabled" }\n}\n',
     'resource "aws_s3_bucket_versioning" "v" {\n  bucket = "b"\n'
     '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n'),
    ("required_providers outside terraform",
     'required_providers {\n  aws = { source = "hashicorp/aws" }\n}\n',
     'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'),
    ("malformed number", 'resource "aws_sqs_queue" "q" {\n  delay_seconds = 60s\n}\n',
     'resource "aws_sqs_queue" "q" {\n  delay_seconds = 60\n}\n'),
    ("a bool for a number", 'resource "aws_sqs_queue" "q" {\n  delay_seconds = true\n}\n',
     'resource "aws_sqs_queue" "q" {\n  delay_seconds = "60"\n}\n'),
    ("a list for a string", 'resource "aws_sqs_queue" "q" {\n  name = ["a"]\n}\n',
     'resource "aws_sqs_queue" "q" {\n  name = "a"\n}\n'),
    ("unbalanced braces", 'resource "aws_sqs_queue" "q" {\n  name = "a"\n',
     'resource "aws_sqs_queue" "q" {\n  name = "a"\n}\n'),
    ("missing required argument", 'resource "aws_s3_bucket_versioning" "v" {\n'
     '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n',
     'resource "aws_s3_bucket_versioning" "v" {\n  bucket = "b"\n'
     '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n'),
    ("remote module source", 'module "m" {\n  source = "git::https://x/y"\n}\n',
     'module "m" {\n  source = "../y"\n}\n'),
])
def test_schema_mode_rejects_each_error_class(constraint, grammar, name, bad, good):
    assert constraint.accepts(reply(good), grammar) is None, name
    assert constraint.accepts(reply(bad), grammar) is not None, name


def test_syntax_mode_rejects_only_broken_hcl(constraint):
    assert constraint.accepts(reply('resource "aws_s3_blob" "b" {\n  x = 1\n}\n'),
                              syntax_grammar()) is None
    assert constraint.accepts(reply('resource "a" "b" {\n  x = 1\n'), syntax_grammar())
    assert constraint.accepts('resource "a" "b" {}', syntax_grammar())  # no fence


@pytest.mark.parametrize("mode", ["syntax", "schema"])
def test_a_file_name_is_at_most_64_characters(constraint, grammar, mode):
    """Unbounded, the embedded model spelled one file name out until its budget ran out."""
    chosen = grammar if mode == "schema" else syntax_grammar()
    body = 'resource "aws_sqs_queue" "q" {\n}\n```'
    longest = "q" * 61 + ".tf"
    assert constraint.accepts(f"```hcl {longest}\n{body}", chosen) is None
    assert constraint.accepts(f"```hcl q{longest}\n{body}", chosen) is not None
    assert constraint.accepts(f"```hcl q{longest}", chosen, prefix=True) is not None


@pytest.mark.parametrize("mode", ["syntax", "schema"])
def test_a_name_is_at_most_64_characters(constraint, grammar, mode):
    """Unbounded, the 41-family adapter once wrote `jsonencode` over and over as one name."""
    chosen = grammar if mode == "schema" else syntax_grammar()
    head = 'resource "aws_sqs_queue" "q" {\n  name = '
    assert constraint.accepts(reply(head + "a" * 64 + "\n}\n"), chosen) is None
    assert constraint.accepts(reply(head + "a" * 65 + "\n}\n"), chosen) is not None


@pytest.mark.parametrize(("line", "ok"), [
    ("provider = aws.west", True), ("provider = aws", True),
    ("depends_on = [aws_sqs_queue.dlq, module.m, data.aws_region.r]", True),
    ("depends_on = []", True),
    ('tags = { Name = "q", "team" : var.team, (local.k) = 1 }', True),
    ("tags = merge(local.tags, { Name = \"q\" })", True),
    ("lifecycle {\n    ignore_changes = [tags, tags[\"Name\"]]\n  }", True),
    ("lifecycle {\n    ignore_changes = all\n    prevent_destroy = true\n  }", True),
    ("lifecycle {\n    replace_triggered_by = [aws_sqs_queue.dlq.id]\n  }", True),
    # each written by the 41-family adapter under the schema grammar before it said so
    ("provider = jsonencode", False), ("provider = aws_sqs_queue.dlq", False),
    ("depends_on = true", False), ("depends_on = [aws_sqs_queue.dlq.arn]", False),
    ('depends_on = ["aws_sqs_queue.dlq"]', False),
    ("lifecycle {\n    create_before_destroy = 30\n  }", False),
    # a map of strings holds strings (`tags`)
    ('tags = { events = { a = "b" } }', False), ('tags = { events = ["a"] }', False),
    ("lifecycle {\n    replace_triggered_by = 30\n  }", False),
    # `ignore_changes` names the type's own attributes and blocks (the adapter wrote `true-min`)
    ("lifecycle {\n    ignore_changes = [true-min]\n  }", False),
    ("lifecycle {\n    ignore_changes = [delay]\n  }", False),
    ("lifecycle {\n    ignore_changes = [redrive_policy, tags.Name]\n  }", True),
])
def test_meta_arguments_and_maps_of_scalars_take_only_their_shape(constraint, grammar, line, ok):
    text = reply(f'resource "aws_sqs_queue" "q" {{\n  name = "q"\n  {line}\n}}\n')
    assert (constraint.accepts(text, grammar) is None) == ok


def test_per_request_grammar_holds_the_types_the_prompt_names(schema):
    grammar = grammar_for("schema", "A DynamoDB table; see aws_kms_key for the key.")
    assert '"\\"aws_dynamodb_table\\""' in grammar and '"\\"aws_kms_key\\""' in grammar
    assert '"\\"aws_instance\\""' not in grammar
    # the full schema is too big for one llguidance grammar; a single type is not
    assert len(schema_grammar(schema, ["aws_sqs_queue"])) < 200_000


def test_every_family_request_admits_the_types_of_its_reference(schema):
    """Before the synthesizer's newer families had words here, 137 of these 820 requests (load
    balancers, auto scaling, EFS, HTTP APIs, transit gateways…) could not be answered."""
    missing = {}
    for family in FAMILIES:
        for seed in range(20):
            task, spec = generation_task(family, seed)
            if lacking := set(spec.types) - likely_types(task.prompt, schema):
                missing[task.id] = sorted(lacking)
    assert not missing


def test_the_guards_let_a_reference_of_every_family_through(constraint):
    """Token by token through the real processor (grammar and every guard): with blanks cut
    at 16 after a name, the line guard refused 274 of 1,347 `terraform fmt`-aligned references."""
    refused = {}
    for family in FAMILIES:
        task, _ = generation_task(family, 0)
        text = "\n".join(f"```hcl {n}\n{t.rstrip()}\n```" for n, t in task.reference.items())
        if why := constraint.guarded(text, grammar_for("schema", task.prompt)):
            refused[task.id] = why
    assert not refused


@pytest.mark.slow
def test_the_mini_benchmark_references_are_accepted_exactly_when_they_validate(constraint):
    tasks = [t for t in load_tasks(FIXTURES / "iac_eval_mini.csv") if t.reference]
    texts = ["\n".join(f"```hcl {n}\n{t.rstrip()}\n```" for n, t in task.reference.items())
             for task in tasks]
    certs = verify_all(
        [Request(t.prompt).candidate(text, t.id) for t, text in zip(tasks, texts, strict=True)],
        verifier=Verifier(stages=["parse", "validate"]))
    for task, text, cert in zip(tasks, texts, certs, strict=True):
        why = constraint.accepts(text, grammar_for("schema", task.prompt))
        # one reference sets `name` on aws_db_instance, gone in provider 5: the grammar says so
        assert (why is None) == cert.passed, (task.id, why)
