"""Parse: files into one model with block lines, and syntax errors with line and column."""

import json

import pytest

from iacforge.hcl.parse import MAX_BYTES, parse_files

MAIN = """\
variable "region" {
  type = string
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

data "aws_availability_zones" "available" {}

module "net" {
  source = "./net"
}
"""


def test_blocks_carry_kind_labels_file_lines_and_address():
    outcome = parse_files({"main.tf": MAIN})
    assert outcome.diagnostics == ()
    assert outcome.model is not None
    assert [(b.kind, b.labels, b.file, b.start_line, b.end_line, b.address)
            for b in outcome.model.blocks] == [
        ("variable", ("region",), "main.tf", 1, 3, "var.region"),
        ("resource", ("aws_s3_bucket", "logs"), "main.tf", 5, 7, "aws_s3_bucket.logs"),
        ("data", ("aws_availability_zones", "available"), "main.tf", 9, 9,
         "data.aws_availability_zones.available"),
        ("module", ("net",), "main.tf", 11, 13, "module.net"),
    ]
    bucket = outcome.model.find("resource", "aws_s3_bucket")
    assert bucket is not None and bucket.body == {"bucket": ["logs"]}


def test_every_file_is_parsed_and_the_model_keeps_their_text():
    files = {"b.tf": 'output "o" {\n  value = 1\n}\n', "a.tf": MAIN}
    model = parse_files(files).model
    assert model is not None
    assert model.files == files
    assert [b.file for b in model.blocks] == ["a.tf"] * 4 + ["b.tf"]


def test_tf_json_files_become_the_same_blocks():
    doc = {
        "resource": {"aws_s3_bucket": {"logs": {"bucket": "logs"}}},
        "variable": {"region": {"type": "string"}},
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}}},
    }
    model = parse_files({"main.tf.json": json.dumps(doc)}).model
    assert model is not None
    assert [(b.kind, b.labels, b.body) for b in model.blocks] == [
        ("resource", ("aws_s3_bucket", "logs"), {"bucket": "logs"}),
        ("variable", ("region",), {"type": "string"}),
        ("terraform", (), {"required_providers": {"aws": {"source": "hashicorp/aws"}}}),
    ]


@pytest.mark.parametrize(
    ("text", "summary", "line", "column"),
    [
        ('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n',
         "Unexpected end of file (unbalanced braces or brackets?)", 2, 15),
        ('resource "aws_s3_bucket" "b" {\n  bucket = "x" @\n}\n',
         "Unexpected character '@'", 2, 16),
        ('resource "aws_s3_bucket" "b" {\n  bucket = "x"\n}\n}\n',
         "Unexpected token '}'", 4, 1),
    ],
    ids=["unbalanced", "stray-character", "extra-brace"],
)
def test_syntax_errors_say_what_and_where(text, summary, line, column):
    outcome = parse_files({"main.tf": text})
    assert outcome.model is None
    (diagnostic,) = outcome.diagnostics
    assert (diagnostic.severity, diagnostic.file) == ("error", "main.tf")
    assert diagnostic.summary == summary
    assert (diagnostic.line, diagnostic.column) == (line, column)


def test_each_bad_file_is_reported_and_good_files_do_not_hide_them():
    outcome = parse_files({"ok.tf": MAIN, "a.tf": "variable {\n", "b.tf.json": "{"})
    assert outcome.model is None
    assert [(d.file, d.summary) for d in outcome.diagnostics] == [
        ("a.tf", "Unexpected end of file (unbalanced braces or brackets?)"),
        ("b.tf.json", "Invalid JSON"),
    ]


def test_invalid_json_has_its_line_and_column():
    (diagnostic,) = parse_files({"main.tf.json": '{\n  "resource": ,\n}'}).diagnostics
    assert (diagnostic.summary, diagnostic.line, diagnostic.column) == ("Invalid JSON", 2, 15)


def test_json_that_is_not_an_object_is_an_error():
    (diagnostic,) = parse_files({"main.tf.json": "[1, 2]"}).diagnostics
    assert diagnostic.summary == "Invalid JSON configuration"


@pytest.mark.parametrize("name, text", [
    ("main.tf", "locals {\n  x = " + "[" * 3000 + "]" * 3000 + "\n}\n"),
    ("main.tf.json", '{"locals": {"x": ' + "[" * 300 + "]" * 300 + "}}"),
])
def test_input_nested_too_deeply_is_refused_as_a_bound_not_a_crash(name, text):
    outcome = parse_files({name: text})
    (diagnostic,) = outcome.diagnostics
    assert (diagnostic.rule_id, diagnostic.file) == ("iacforge/bound/depth", name)
    assert outcome.exceeded


def test_more_than_the_parse_bound_is_refused_unparsed():
    outcome = parse_files({"main.tf": "#" * MAX_BYTES + "\n"})
    assert [d.rule_id for d in outcome.diagnostics] == ["iacforge/bound/size"]


@pytest.mark.parametrize("text", ["", "# only a comment\n", "locals {}\n"])
def test_files_without_blocks_parse_to_an_empty_model(text):
    outcome = parse_files({"main.tf": text})
    assert outcome.diagnostics == ()
    assert outcome.model is not None
    assert [b.kind for b in outcome.model.blocks] in ([], ["locals"])


def test_crlf_files_parse_with_the_same_lines():
    model = parse_files({"main.tf": MAIN.replace("\n", "\r\n")}).model
    assert model is not None
    assert [b.start_line for b in model.blocks] == [1, 5, 9, 11]


def test_a_crlf_heredoc_parses_as_terraform_reads_it():
    text = 'locals {\r\n  a = <<EOT\r\n}\r\nEOT\r\n  b = 1\r\n}\r\n'
    outcome = parse_files({"main.tf": text})
    assert outcome.diagnostics == ()
    assert outcome.model.blocks[0].body["b"] == [1]
