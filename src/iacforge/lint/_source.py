"""A light outline of HCL source text: where blocks and attributes are, which strings are bare.

The parser's view (`TerraformModel`) loses two things lint needs: it writes `"${var.x}"` and
`var.x` alike, and it records no line for some blocks (outputs, checks). This lexer reads the
raw text for exactly those facts; it assumes the text already parsed.

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
from collections.abc import Iterator
from dataclasses import dataclass, field

from iacforge.hcl.model import Block

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)[ \t]*\r?\n")
_TWO_CHAR_OPS = ("==", "!=", "<=", ">=", "=>")


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


@dataclass(frozen=True)
class _Token:
    kind: str  # ident | string | lbrace | rbrace | equals | newline | other
    text: str
    offset: int


@functools.lru_cache(maxsize=32)
def outline(text: str) -> Outline:
    """Outline one `.tf` file's text (cached: several rules read the same files)."""
    lexer = _Lexer(text)
    blocks: list[SourceBlock] = []
    depth = 0
    header: list[_Token] = []  # the statement being read at the top level
    open_block: _OpenBlock | None = None
    first: _Token | None = None  # the statement's first token, when it is an identifier
    previous: _Token | None = None
    at_start = True
    for tok in lexer.tokens():
        if tok.kind == "lbrace":
            if depth == 0 and header and header[0].kind == "ident":
                labels = tuple(t.text for t in header[1:])
                open_block = _OpenBlock(header[0].text, labels, lexer.line(header[0].offset))
            depth += 1
        elif tok.kind == "rbrace":
            depth -= 1
            if depth == 0 and open_block is not None:
                blocks.append(open_block.close(lexer.line(tok.offset)))
                open_block = None
        elif tok.kind == "equals" and depth == 1 and open_block and first and previous is first:
            open_block.attributes.setdefault(first.text, lexer.line(first.offset))
        if depth == 0:
            header = [] if tok.kind in ("newline", "rbrace") else [*header, tok]
        if tok.kind != "newline":
            if at_start:
                first = tok if tok.kind == "ident" else None
            previous = tok
        at_start = tok.kind in ("newline", "lbrace", "rbrace")
    return Outline(tuple(blocks), tuple(lexer.interpolation_only))


@dataclass
class _OpenBlock:
    kind: str
    labels: tuple[str, ...]
    start: int
    attributes: dict[str, int] = field(default_factory=dict)

    def close(self, end: int) -> SourceBlock:
        return SourceBlock(self.kind, self.labels, self.start, end, self.attributes)


class _Lexer:
    """Tokens of HCL native syntax, skipping comments, heredoc bodies and string contents."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.interpolation_only: list[tuple[int, int]] = []
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def line(self, offset: int) -> int:
        return bisect.bisect_right(self._line_starts, offset)

    def column(self, offset: int) -> int:
        return offset - self._line_starts[self.line(offset) - 1] + 1

    def tokens(self) -> Iterator[_Token]:
        text, i, n = self.text, 0, len(self.text)
        while i < n:
            c = text[i]
            if c in " \t\r":
                i += 1
            elif c == "\n":
                yield _Token("newline", c, i)
                i += 1
            elif c == "#" or text.startswith("//", i):
                i = _index(text, "\n", i)
            elif text.startswith("/*", i):
                i = _index(text, "*/", i) + 2
            elif c == '"':
                end = self._string(i)
                yield _Token("string", text[i + 1 : end - 1], i)
                i = end
            elif (m := _HEREDOC.match(text, i)) is not None:
                yield _Token("other", "<<", i)
                i = self._heredoc_end(m.end(), m.group(1))
            elif c in "{}":
                yield _Token("lbrace" if c == "{" else "rbrace", c, i)
                i += 1
            elif text.startswith(_TWO_CHAR_OPS, i):
                yield _Token("other", text[i : i + 2], i)
                i += 2
            elif c == "=":
                yield _Token("equals", c, i)
                i += 1
            elif (m := _IDENT.match(text, i)) is not None:
                yield _Token("ident", m.group(), i)
                i = m.end()
            else:
                yield _Token("other", c, i)
                i += 1

    def _string(self, start: int) -> int:
        """Index just past the quoted string opening at `start`; notes bare interpolations."""
        text, i, n = self.text, start + 1, len(self.text)
        after_first: int | None = None
        while i < n:
            if text[i] == "\\":
                i += 2
            elif text[i] == '"':
                if after_first == i:
                    self.interpolation_only.append((self.line(start), self.column(start)))
                return i + 1
            elif text.startswith(("$${", "%%{"), i):
                i += 3
            elif text.startswith(("${", "%{"), i):
                bare = i == start + 1 and text[i] == "$"
                i = self._template_end(i + 2)
                after_first = i if bare else after_first
            else:
                i += 1
        return n

    def _template_end(self, i: int) -> int:
        """Index just past the `}` closing a template sequence whose body starts at `i`."""
        text, n, depth = self.text, len(self.text), 1
        while i < n:
            c = text[i]
            if c == '"':
                i = self._string(i)
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    return i + 1
            i += 1
        return n

    def _heredoc_end(self, i: int, marker: str) -> int:
        pattern = re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*\r?$", re.M)
        m = pattern.search(self.text, i)
        return m.end() if m else len(self.text)


def _index(text: str, needle: str, start: int) -> int:
    found = text.find(needle, start)
    return len(text) if found < 0 else found
