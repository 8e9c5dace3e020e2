"""Every reader of HCL source (the normaliser, lint's outline, the screen) sees heredocs alike.

They share one lexer (`hcl.lexer`) and its heredoc rule: `<<EOT` / `<<-EOT`, LF or CRLF, and
a closing marker that may be indented and followed by blanks. A `}` inside a heredoc closes
nothing. Each case holds a `}` in a heredoc of a provider block, then an attribute after it.
"""

from __future__ import annotations

import pytest

from iacforge.hcl.lexer import HEREDOC, tokenize
from iacforge.hcl.normalise import normalise
from iacforge.hcl.outline import outline
from iacforge.hcl.parse import parse_files
from iacforge.hcl.scan import body_items, top_level_blocks
from iacforge.verify.screen.policy import ScreenPolicy
from iacforge.verify.screen.rules import screen

#: (name, opening, the heredoc's lines, closing line), joined with `\n` or `\r\n`.
SPELLINGS = {
    "plain": ("<<EOT", ["}", "{"], "EOT"),
    "dashed-indented": ("<<-EOT", ["    }", "  }"], "  EOT"),
    "closing-with-trailing-blanks": ("<<EOT", ["}"], "EOT  "),
    "marker-with-dash": ("<<-END-1", ["  } }"], "  END-1"),
}


def provider(opening: str, lines: list[str], closing: str, newline: str) -> str:
    return newline.join([
        'provider "aws" {', '  region = "us-east-1"', f"  note = {opening}", *lines, closing,
        '  profile = "prod"', "}", "", 'output "o" {', '  value = file("/etc/passwd")', "}", ""])


CASES = [pytest.param(*spelling, newline, id=f"{name}-{ending}")
         for name, spelling in SPELLINGS.items()
         for newline, ending in (("\n", "lf"), ("\r\n", "crlf"))]


@pytest.mark.parametrize(("opening", "lines", "closing", "newline"), CASES)
def test_the_normaliser_sees_the_attribute_after_the_heredoc(opening, lines, closing, newline):
    text = provider(opening, lines, closing, newline)
    assert [b.name for b in top_level_blocks(text)] == ["provider", "output"]
    assert [i.name for i in body_items(text, text.index("{"))] == ["region", "note", "profile"]
    out = normalise({"main.tf": text}, terraform_version="1.9.8", aws_version="5.80.0")
    kept = out.files["main.tf"]
    assert "profile" not in kept and '"prod"' not in kept
    assert kept.count("\n") == text.count("\n")  # line numbers do not move
    assert all(line in kept for line in lines)  # the heredoc is left as written


@pytest.mark.parametrize(("opening", "lines", "closing", "newline"), CASES)
def test_lints_outline_sees_the_attribute_after_the_heredoc(opening, lines, closing, newline):
    text = provider(opening, lines, closing, newline)
    found = outline(text)
    assert [(b.kind, b.labels) for b in found.blocks] == [("provider", ("aws",)),
                                                          ("output", ("o",))]
    profile_line = 4 + len(lines) + 1
    assert found.blocks[0].attributes == {"region": 2, "note": 3, "profile": profile_line}
    assert found.blocks[0].end == profile_line + 1


@pytest.mark.parametrize(("opening", "lines", "closing", "newline"), CASES)
def test_the_screen_reads_past_the_heredoc(opening, lines, closing, newline):
    text = provider(opening, lines, closing, newline)
    model = parse_files({"main.tf": text}).model
    assert model is not None
    host_path = [d for d in screen(model, ScreenPolicy.load()) if d.rule_id.endswith("host-path")]
    assert [d.line for d in host_path] == [text.count("\n", 0, text.index("file(")) + 1]
    kinds = [t.kind for t in tokenize(text)]
    # the heredoc, and "aws" "us-east-1" "prod" "o" "/etc/passwd"
    assert kinds.count("open") == 1 + 5
    assert [t.text for t in tokenize(text) if t.kind == "ident"][:6] == [
        "provider", "region", "note", "profile", "output", "value"]


def test_a_blank_after_the_opening_marker_makes_no_heredoc_for_any_reader():
    """Terraform refuses `<<EOT ` (the marker must end its line); so do all our readers."""
    text = 'locals {\n  a = <<EOT \n}\nEOT\n}\n'
    assert HEREDOC.search(text) is None
    assert not any(t.kind == "open" for t in tokenize(text))
    assert outline(text).blocks[0].end == 3  # the `}` on line 3 closes `locals`
    assert top_level_blocks(text)[0].end == text.index("}") + 1
