"""The one HCL lexer: tokens of HCL's native syntax and templates, with offsets.

The parser gives values, not positions, and re-renders expressions; the screen needs the
function calls, string pieces, numbers and nesting depth as they are written, lint needs where
blocks and attributes are (`hcl.outline`), and the normaliser needs spans (`hcl.scan`, which
shares the heredoc rule defined here). This lexer knows comments, quoted templates with
`${…}` / `%{…}` (and their `$${` / `%%{` escapes), heredocs, and brackets; nothing more. It
never raises: whatever it does not understand becomes a one-character punctuation token.

>>> [(t.kind, t.text) for t in tokenize('a = <<-EOT\\r\\n  }\\r\\n  EOT\\r\\n')][2:]
[('open', '<<-EOT\\r\\n'), ('text', '  }\\r\\n'), ('close', '  EOT\\r\\n')]
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

#: A heredoc's opening, as terraform reads it: `<<` or `<<-`, an identifier (HCL's: `-`
#: allowed after the first character, as in `EOT-1`), and at once the end of the line, LF or
#: CRLF. A blank after the marker makes it no heredoc (terraform refuses the file).
HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_-]*)\r?\n")


def heredoc_end(marker: str) -> re.Pattern[str]:
    """The line that closes a heredoc opened with `marker` (indented or not, LF or CRLF)."""
    return re.compile(rf"^[ \t]*{re.escape(marker)}[ \t]*\r?$", re.M)


_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_NUMBER = re.compile(r"\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_SPACE = re.compile(r"(?:\s+|#[^\n]*|//[^\n]*|/\*.*?(?:\*/|\Z))+", re.S)
_CLOSERS = {"(": ")", "[": "]", "{": "}"}
_INTERPOLATION = "${"  # stack entry: code inside a template, closed by "}"
_QUOTED = '"'  # stack entry: a quoted template
_BARE = ""  # stack entry: a template that runs to the end (a .tf.json string)
_QUOTED_SPECIAL = re.compile(r'[\\"$%]')
_BARE_SPECIAL = re.compile(r"[$%]")
_HEREDOC_SPECIAL = re.compile(r"[$%\n]")


@dataclass(frozen=True)
class Token:
    """One token: `ident`, `number`, `punct`, `open`/`close` (a template's ends) or `text`."""

    kind: str
    text: str
    offset: int
    #: Brackets, templates and interpolations open around the token.
    depth: int


@dataclass(frozen=True)
class Call:
    """A function call: its name, where the name starts, and each argument's tokens."""

    name: str
    offset: int
    args: tuple[tuple[Token, ...], ...]


def tokenize(text: str, *, template: bool = False) -> list[Token]:
    """The tokens of `text`: HCL native syntax, or with `template` a string's contents."""
    return _Lexer(text, template).run()


class _Lexer:
    def __init__(self, text: str, template: bool) -> None:
        self.text = text
        self.stack: list[str] = [_BARE] if template else []
        self.out: list[Token] = []

    def emit(self, kind: str, text: str, offset: int) -> None:
        self.out.append(Token(kind, text, offset, len(self.stack)))

    def run(self) -> list[Token]:
        i = 0
        while i < len(self.text):
            i = self._template(i) if self._in_template() else self._code(i)
        return self.out

    def _in_template(self) -> bool:
        return bool(self.stack) and (self.stack[-1] in (_QUOTED, _BARE)
                                     or self.stack[-1].startswith("<<"))

    def _code(self, i: int) -> int:
        text = self.text
        space = _SPACE.match(text, i)
        if space:
            return space.end()
        c = text[i]
        if c == '"':
            self.emit("open", c, i)
            self.stack.append(_QUOTED)
            return i + 1
        for pattern, kind in ((HEREDOC, "open"), (_IDENT, "ident"), (_NUMBER, "number")):
            match = pattern.match(text, i)
            if match:
                self.emit(kind, match.group(), i)
                if kind == "open":
                    self.stack.append("<<" + match.group(1))
                return match.end()
        if c in _CLOSERS:
            self.emit("punct", c, i)
            self.stack.append(_CLOSERS[c])
        elif self.stack and (self.stack[-1] == c or (c == "}" and
                                                     self.stack[-1] == _INTERPOLATION)):
            self.stack.pop()
            self.emit("punct", c, i)
        else:
            self.emit("punct", c, i)
        return i + 1

    def _template(self, i: int) -> int:
        """Scan a template's literal text from `i` to its end or its next interpolation."""
        text, top, start = self.text, self.stack[-1], i
        if top.startswith("<<"):
            return self._heredoc(i, re.compile(rf"[ \t]*{re.escape(top[2:])}[ \t]*(?:\r?\n|\Z)"))
        special = _QUOTED_SPECIAL if top == _QUOTED else _BARE_SPECIAL
        while found := special.search(text, i):
            i = found.start()
            if text[i] == "\\":
                i += 2
            elif text[i] == '"':
                return self._close(start, i, i + 1)
            elif self._interpolation(start, i):
                return i + 2
            else:
                i += 3 if text.startswith(("$${", "%%{"), i) else 1
        self._text(start, len(text))
        return len(text)

    def _heredoc(self, i: int, marker: re.Pattern[str]) -> int:
        text, start = self.text, i
        at_line_start = i == 0 or text[i - 1] == "\n"
        while True:
            end = marker.match(text, i) if at_line_start else None
            if end:
                return self._close(start, i, end.end())
            found = _HEREDOC_SPECIAL.search(text, i)
            if found is None:
                break
            i, at_line_start = found.start(), False
            if text[i] == "\n":
                i, at_line_start = i + 1, True
            elif self._interpolation(start, i):
                return i + 2
            else:
                i += 3 if text.startswith(("$${", "%%{"), i) else 1
        self._text(start, len(text))
        return len(text)

    def _interpolation(self, start: int, i: int) -> bool:
        """At `${` or `%{`: end the text, open the interpolation, and say True."""
        if not self.text.startswith(("${", "%{"), i):
            return False
        self._text(start, i)
        self.emit("punct", self.text[i : i + 2], i)
        self.stack.append(_INTERPOLATION)
        return True

    def _text(self, start: int, end: int) -> None:
        if end > start:
            self.emit("text", self.text[start:end], start)

    def _close(self, start: int, end: int, after: int) -> int:
        self._text(start, end)
        self.stack.pop()
        self.emit("close", self.text[end:after], end)
        return after


def calls(tokens: list[Token]) -> Iterator[Call]:
    """Every function call among `tokens` (nested ones too), in source order."""
    for i, token in enumerate(tokens[:-1]):
        paren = tokens[i + 1]
        if token.kind != "ident" or paren.kind != "punct" or paren.text != "(":
            continue
        args: list[tuple[Token, ...]] = []
        current: list[Token] = []
        for inner in tokens[i + 2:]:
            if inner.depth <= paren.depth:  # the closing parenthesis (or a broken input)
                break
            if inner.depth == paren.depth + 1 and inner.kind == "punct" and inner.text == ",":
                args.append(tuple(current))
                current = []
            else:
                current.append(inner)
        if current:
            args.append(tuple(current))
        yield Call(token.text, token.offset, tuple(args))


@dataclass(frozen=True)
class Span:
    """A top-level block as written: its keyword, its labels, and its first and last offset."""

    kind: str
    labels: tuple[str, ...]
    start: int
    end: int


def top_level(tokens: list[Token]) -> list[Span]:
    """The top-level blocks among a file's tokens (`resource "a" "b" { … }`)."""
    spans: list[Span] = []
    i = 0
    while i < len(tokens):
        head = tokens[i]
        j, labels = i + 1, []
        while j < len(tokens) and tokens[j].kind in ("open", "text", "close", "ident") \
                and tokens[j].depth <= 1:
            if tokens[j].kind in ("text", "ident"):
                labels.append(tokens[j].text)
            j += 1
        opens = j < len(tokens) and tokens[j].text == "{" and tokens[j].depth == 0
        if head.kind != "ident" or head.depth != 0 or not opens:
            i += 1
            continue
        k = j + 1
        while k < len(tokens) and not (tokens[k].depth == 0 and tokens[k].text == "}"):
            k += 1
        spans.append(Span(head.text, tuple(labels), head.offset,
                          tokens[min(k, len(tokens) - 1)].offset))
        i = k + 1
    return spans


_ESCAPE = re.compile(r'\\(?:[nrt"\\]|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8})|\$\$\{|%%\{')
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", '"': '"', "\\": "\\"}


def decode(text: str) -> str:
    """A quoted HCL string's value as terraform reads it: `\\u002f`, `\\"`, `$${`, `%%{` decoded."""
    def one(match: re.Match[str]) -> str:
        found = match.group()
        if found in ("$${", "%%{"):
            return found[1:]
        if found[1] in "uU":
            try:
                return chr(int(found[2:], 16))
            except ValueError:  # beyond U+10FFFF: terraform refuses it; keep it visible
                return found
        return _SIMPLE[found[1]]
    return _ESCAPE.sub(one, text) if "\\" in text or "$${" in text or "%%{" in text else text


def line_of(text: str, offset: int) -> int:
    """The 1-based line holding `offset`."""
    return text.count("\n", 0, offset) + 1
