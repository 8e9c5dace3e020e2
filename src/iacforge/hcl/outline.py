"""A light outline of HCL source text: where blocks and attributes are, which strings are bare.

The parser's view (`TerraformModel`) loses two things lint needs: it writes `"${var.x}"` and
`var.x` alike, and it records no line for some blocks (outputs, checks). The outline reads
them from the tokens of the one HCL lexer (`hcl.lexer`), so it agrees with the normaliser and
the screen on comments, strings and heredocs; it assumes the text already parsed.

>>> o = outline('output "o" {\\n  value = "${var.x}"\\n}\\n')
>>> o.blocks[0].kind, o.blocks[0].labels, o.blocks[0].start, o.blocks[0].attributes
('output', ('o',), 1, {'value': 2})
>>> o.interpolation_only
((2, 11),)
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass, field

from iacforge.hcl.lexer import Token, tokenize
from iacforge.hcl.model import Block


@dataclass(frozen=True)
class SourceBlock:
    """A top-level block as written: its header, line span and direct attributes."""

    kind: str
    labels: tuple[str, ...]
    start: int
    end: int
    #: Attributes directly in the block's body: name → line.
    attributes: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Outline:
    blocks: tuple[SourceBlock, ...]
    #: (line, column) of every quoted string that is one interpolation and nothing else.
    interpolation_only: tuple[tuple[int, int], ...]

    def enclosing(self, line: int) -> SourceBlock | None:
        """The top-level block whose span holds `line`."""
        return next((b for b in self.blocks if b.start <= line <= b.end), None)

    def address_at(self, line: int) -> str | None:
        """The address `line` belongs to: its block's, or `local.<name>` inside `locals`."""
        block = self.enclosing(line)
        if block is None:
            return None
        if block.kind == "locals":
            names = [n for n, start in block.attributes.items() if start <= line]
            if names:
                return f"local.{max(names, key=block.attributes.__getitem__)}"
        return Block(block.kind, block.labels, {}, "").address


@functools.lru_cache(maxsize=32)
def outline(text: str) -> Outline:
    """Outline one `.tf` file's text (cached: several rules read the same files)."""
    tokens = tokenize(text)
    starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(offset: int) -> int:
        return bisect.bisect_right(starts, offset)

    blocks: list[SourceBlock] = []
    i = 0
    while i < len(tokens):
        head = tokens[i]
        j, labels = i + 1, []
        while j < len(tokens) and _is_label(tokens[j]):
            if tokens[j].kind in ("text", "ident"):
                labels.append(tokens[j].text)
            j += 1
        if head.kind != "ident" or head.depth != 0 or not _punct(tokens, j, "{", 0):
            i += 1
            continue
        attributes: dict[str, int] = {}
        k = j + 1
        while k < len(tokens) and not _punct(tokens, k, "}", 0):
            tok = tokens[k]
            new_statement = line(tokens[k - 1].offset) < line(tok.offset) or k == j + 1
            if (tok.kind == "ident" and tok.depth == 1 and new_statement
                    and _punct(tokens, k + 1, "=", 1) and not _punct(tokens, k + 2, "=", 1)):
                attributes.setdefault(tok.text, line(tok.offset))
            k += 1
        end = tokens[min(k, len(tokens) - 1)].offset
        blocks.append(SourceBlock(head.text, tuple(labels), line(head.offset), line(end),
                                  attributes))
        i = k + 1
    bare = [(line(t.offset), t.offset - starts[line(t.offset) - 1] + 1)
            for t in _interpolation_only(tokens)]
    return Outline(tuple(blocks), tuple(bare))


def _is_label(token: Token) -> bool:
    """A block label: a bare identifier, or a quoted string's pieces (at the top level)."""
    return token.kind in ("open", "text", "close", "ident") and token.depth <= 1 \
        and (token.kind != "open" or token.text == '"')


def _punct(tokens: list[Token], i: int, text: str, depth: int) -> bool:
    return i < len(tokens) and tokens[i].kind == "punct" and tokens[i].text == text \
        and tokens[i].depth == depth


def _interpolation_only(tokens: list[Token]) -> list[Token]:
    """The opening quote of every quoted string that is `"${…}"` and nothing else."""
    found = []
    for i, tok in enumerate(tokens):
        if tok.kind != "open" or tok.text != '"' or not _punct(tokens, i + 1, "${", tok.depth + 1):
            continue
        k = i + 2
        while k < len(tokens) and not (tokens[k].depth == tok.depth + 1
                                       and tokens[k].kind == "punct" and tokens[k].text == "}"):
            k += 1
        if k + 1 < len(tokens) and tokens[k + 1].kind == "close" and tokens[k + 1].text == '"' \
                and tokens[k + 1].depth == tok.depth:
            found.append(tok)
    return found
