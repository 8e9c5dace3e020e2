"""What a reply being decoded has written so far, read a character at a time for the guards.

It follows strings, `${}` templates, heredocs, comments and brackets, and records what the
guards need: the `resource`/`data` blocks declared (`references`), where the text ends (in code,
at an expression, at an attribute key, in a body's line), the keys set in each open body and the
comment lines written in a row (`repetition`, `lines`).
"""

from __future__ import annotations

import re

from iacforge.constrain.vocab import WORD

_OPERATORS = frozenset("=?:!<>+*/%&|")
_DECLARATION = re.compile(r'^\s*(resource|data)\s+"([\w-]+)"\s+"([\w-]+)"\s*$')
_LABEL = re.compile(r'^\s*(resource|data)\s+"([\w-]+)"\s+"([\w-]*)$')
_KEY = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*$")
_BLOCK = re.compile(r'^\s*([A-Za-z_][\w-]*)(\s+"[^"]*")*\s*$')
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)$")
_ALIAS = re.compile(r'^\s*alias\s*=\s*"([A-Za-z_][\w-]*)$')


class Lexer:
    """What a reply declares and where its text ends: inside code, a string, a comment...

    Attributes:
        declared: `(keyword, type, name)` of every closed `resource`/`data` block, and the open
            one's in `current`.
        counted: the declared blocks that set `count` or `for_each` (a reference to one
            needs an instance key: `aws_x.y[0].arn`).
        aliases: the `alias` of every `provider` block.
        tail: the word characters (`[A-Za-z0-9_.-]`) at the end of code, None outside code.
        expression: whether `tail` starts where an expression may.
        comment_lines: comment lines written since the last code (blank lines do not count).
        comments: comment lines written in all.
        blank_lines: blank lines written since the last code or comment.
        tokens: the pieces fed (the tokens sampled, for the processor).
    """

    def __init__(self) -> None:
        self.declared: set[tuple[str, str, str]] = set()
        self.current: tuple[str, str, str] | None = None
        self.counted: set[tuple[str, str, str]] = set()
        self.aliases: set[str] = set()
        self.tail: str | None = ""
        self.expression = False
        self.comment_lines = 0
        self.comments = 0
        self.blank_lines = 0
        self.tokens = 0
        self._mode = "code"           # code, string, line-comment, block-comment, heredoc
        self._stack: list[str] = []   # open brackets in code; "$" for a template's `${`
        self._keys: list[set[str]] = []  # the keys set in each open bracket (bodies: `{`)
        self._opened: list[set[str]] = []  # the blocks opened in each open bracket
        self._blocks: list[str | None] = []  # each open bracket's block type ("": the
        #                                      declaration's own body; None: no block)
        self._outer: list[str] = []   # the mode a template returns to
        self._line = ""
        self._marker = ""
        self._before = "\n"           # the last non-space character of code before the tail

    def feed(self, text: str) -> None:
        self.tokens += 1
        for ch in text:
            self._char(ch)

    @property
    def mode(self) -> str:
        """Where the text ends: code, string, line-comment, block-comment or heredoc."""
        return self._mode

    @property
    def line(self) -> str:
        """The text since the last newline."""
        return self._line

    @property
    def in_body(self) -> bool:
        """Whether the text ends in code at the level of a body (the file's or a block's or an
        object's `{ }`), where a newline ends what the line holds."""
        return self._mode == "code" and (not self._stack or self._stack[-1] == "{")

    @property
    def at_line_start(self) -> bool:
        """Whether the text ends in code with nothing but blanks since the last newline."""
        return self._mode == "code" and not self._line.strip()

    def naming(self) -> tuple[str, set[str], set[str]] | None:
        """The name being written, the names it may not become (where a name written twice is
        an error: an attribute key in a body (`{`) that has set it, or the name label of a
        `resource`/`data` block of a type that has a block of that name) and the blocks the
        body has opened (which may or may not repeat). None elsewhere."""
        if self._mode == "code" and self.tail is not None and self._stack \
                and self._stack[-1] == "{" and self._line.strip() == self.tail:
            return self.tail, self._keys[-1], self._opened[-1]
        if self._mode == "string" and not self._stack and (label := _LABEL.match(self._line)):
            kind, type_, name = label.groups()
            return name, {n for k, t, n in self.declared if (k, t) == (kind, type_)}, set()
        return None

    def body(self) -> tuple[tuple[str, str, str], tuple[str, ...]] | None:
        """The `resource`/`data` block the text ends in and the nested block types down to the
        innermost body (`()`: the block's own), or None outside one or inside a value."""
        if self.current is None or not self._blocks or self._blocks[0] != "" \
                or None in self._blocks:
            return None
        return self.current, tuple(b for b in self._blocks[1:] if b is not None)

    def _char(self, ch: str) -> None:
        line, self._line = self._line, ("" if ch == "\n" else self._line + ch)
        mode = self._mode
        if mode == "line-comment":
            if ch == "\n":
                self._mode = "code"
                self._before = "\n"
            return
        if mode == "block-comment":
            if line.endswith("*") and ch == "/":
                self._mode = "code"
            return
        if mode in ("string", "heredoc"):
            if ch == "{" and line.endswith("$"):
                self._outer.append(mode)
                self._push("$", None)
                self._enter_code("${")
            elif mode == "string" and ch == '"' and not _escaped(line):
                if self._blocks == ["provider"] and (alias := _ALIAS.match(line)):
                    self.aliases.add(alias.group(1))
                self._enter_code('"')
            elif mode == "heredoc" and ch == "\n" and line.strip() == self._marker:
                self._enter_code("\n")
            return
        # code
        if ch == "\n" and not line.strip():
            self.blank_lines += 1
        elif ch not in " \t\r":
            self.blank_lines = 0
        if ch not in " \t\r\n/#*":
            self.comment_lines = 0
        if ch in WORD:
            self.tail = (self.tail or "") + ch
            return
        if ch == '"':
            self._mode, self.tail = "string", None
            return
        if ch == "#" or (ch == "/" and line.endswith("/") and self.tail == ""):
            self._mode, self.tail = "line-comment", None
            self.comment_lines += 1
            self.comments += 1
            return
        if ch == "*" and line.endswith("/"):
            self._mode, self.tail = "block-comment", None
            self.comment_lines += 1
            self.comments += 1
            return
        if ch == "*":
            self.comment_lines = 0
        if ch == "\n" and (heredoc := _HEREDOC.search(line)):
            self._mode, self._marker, self.tail = "heredoc", heredoc.group(1), None
            return
        if ch == "=" and self._stack and self._stack[-1] == "{" and (key := _KEY.match(line)):
            self._keys[-1].add(key.group(1))
        if ch in "([{":
            block = None
            if ch == "{" and not self._stack and (found := _DECLARATION.match(line)):
                self.current = (found.group(1), found.group(2), found.group(3))
                block = ""
            elif ch == "{" and (header := _BLOCK.match(line)):
                block = header.group(1)
                if self._stack and self._stack[-1] == "{":
                    self._opened[-1].add(block)
            self._push(ch, block)
        elif ch in ")]}":
            if self._stack and self._stack[-1] == "$" and ch == "}":
                self._pop()
                self._mode, self.tail = self._outer.pop(), None
                return
            if self._stack:
                if len(self._stack) == 1 and self.current and {"count", "for_each"} & \
                        self._keys[0]:
                    self.counted.add(self.current)
                self._pop()
            if not self._stack and ch == "}" and self.current:
                self.declared.add(self.current)
                self.current = None
        self._enter_code(ch)

    def _push(self, bracket: str, block: str | None) -> None:
        self._stack.append(bracket)
        self._keys.append(set())
        self._opened.append(set())
        self._blocks.append(block)

    def _pop(self) -> None:
        self._stack.pop()
        self._keys.pop()
        self._opened.pop()
        self._blocks.pop()

    def _enter_code(self, ch: str) -> None:
        self._mode = "code"
        self.tail = ""
        if ch not in " \t\r":
            self._before = ch
        inner = self._stack[-1] if self._stack else ""
        before = self._before
        self.expression = (before in _OPERATORS or before == "${"
                           or (before in "([,\n" and inner in ("(", "[")))


def _escaped(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1
