"""Scan: source spans of the items in an HCL body, through strings, comments and heredocs."""

import pytest

from iacforge.hcl.scan import blank, body_items, brace_of, skip_expression_to, top_level_blocks

TEXT = """\
# provider "aws" { in a comment }
/* { */ provider "aws" { region = "x" }
provider "aws" {
  alias   = "west" # trailing {
  profile = "a}b"  // comment }
  default_tags { tags = { A = "${var.x}}" } }
  assume_role {
    role_arn = <<EOT
}}}
EOT
  }
  allowed_account_ids = [
    "1",
    "2",
  ]
}
resource "aws_s3_bucket" "b" {
  bucket = "${format("%s}", "x")}"
}
"""


def spans(text: str, block) -> list[tuple[str, str, tuple[str, ...], str]]:
    return [(i.name, i.kind, i.labels, text[i.start:i.end])
            for i in body_items(text, brace_of(text, block))]


def test_top_level_blocks_are_found_past_comments():
    blocks = top_level_blocks(TEXT)
    assert [(b.name, b.kind, b.labels) for b in blocks] == [
        ("provider", "block", ("aws",)),
        ("provider", "block", ("aws",)),
        ("resource", "block", ("aws_s3_bucket", "b")),
    ]
    assert TEXT[blocks[0].start:blocks[0].end] == 'provider "aws" { region = "x" }'
    assert TEXT[blocks[2].end - 1] == "}"


def test_body_items_span_whole_attributes_and_blocks():
    west = top_level_blocks(TEXT)[1]
    assert spans(TEXT, west) == [
        ("alias", "attribute", (), 'alias   = "west" # trailing {'),
        ("profile", "attribute", (), 'profile = "a}b"  // comment }'),
        ("default_tags", "block", (), 'default_tags { tags = { A = "${var.x}}" } }'),
        ("assume_role", "block", (), 'assume_role {\n    role_arn = <<EOT\n}}}\nEOT\n  }'),
        ("allowed_account_ids", "attribute", (),
         'allowed_account_ids = [\n    "1",\n    "2",\n  ]'),
    ]


def test_a_one_line_block_ends_its_attribute_at_the_brace():
    one_line = top_level_blocks(TEXT)[0]
    assert spans(TEXT, one_line) == [("region", "attribute", (), 'region = "x" ')]


def test_template_interpolations_with_braces_stay_inside_the_string():
    bucket = top_level_blocks(TEXT)[2]
    assert spans(TEXT, bucket) == [("bucket", "attribute", (), 'bucket = "${format("%s}", "x")}"')]


def test_nested_block_labels_are_read():
    text = 'terraform {\n  backend "s3" {\n    key = "k"\n  }\n  cloud {}\n}\n'
    assert [(i.name, i.labels) for i in body_items(text, text.index("{"))] == [
        ("backend", ("s3",)),
        ("cloud", ()),
    ]


def test_an_unterminated_body_runs_to_the_end_without_raising():
    text = 'provider "aws" {\n  region = "x"\n'
    assert skip_expression_to(text, text.index("{") + 1, "}") == len(text)
    assert [i.name for i in body_items(text, text.index("{"))] == ["region"]


def test_something_unexpected_stops_the_scan_instead_of_guessing():
    text = 'locals {\n  a = 1\n  "quoted" = 2\n  b = 3\n}\n'
    assert [i.name for i in body_items(text, text.index("{"))] == ["a"]


@pytest.mark.parametrize(("start", "end"), [(0, 5), (3, 20), (10, len(TEXT))])
def test_blank_keeps_length_and_newlines(start, end):
    out = blank(TEXT, start, end)
    assert len(out) == len(TEXT)
    assert out.count("\n") == TEXT.count("\n")
    assert out[:start] == TEXT[:start] and out[end:] == TEXT[end:]
    assert set(out[start:end]) <= {" ", "\n"}


def test_escaped_interpolations_are_text_in_a_string():
    text = 'provider "aws" {\n  a = "$${x"\n  b = "%%{y"\n  profile = "p"\n}\n'
    assert [span[3] for span in spans(text, top_level_blocks(text)[0])] == [
        'a = "$${x"', 'b = "%%{y"', 'profile = "p"']
