"""References that name only what exists: a guard layered on the grammar's mask.

The grammar cannot know which `resource` and `data` blocks a reply has declared, so in `schema`
mode a reference `aws_x.y.attr` (or `data.aws_x.y.attr`) is checked here as it is written: its
type and name must be those of a block declared earlier in the reply (not the block it is
written in: Terraform refuses a self-reference), and its attribute one the type's schema has
(computed ones included: `arn`, `id`). Past the attribute (`.0.x`, `[0]`, `.*`) it is free.

It reads the reply's text with a small lexer (strings, `${}` templates, heredocs, comments,
brackets) and guards only a reference in an expression position: after `=`, an operator, `?`,
`:`, `${`, or `(`/`[`/`,` inside a call or tuple. A reference that begins a line of a multi-line
tuple, or follows an index (`aws_x.y[0].attr`), is not checked.

>>> schema = {"resource_schemas": {"aws_sqs_queue": {"block": {"attributes": {"arn": {}}}}},
...           "data_source_schemas": {}}
>>> refs = References(schema)
>>> state = refs.state()
>>> state.feed('resource "aws_sqs_queue" "dlq" {\\n}\\nresource "aws_sqs_queue" "q" {\\n  x = ')
>>> refs.valid_prefix(state, "aws_sqs_queue.dlq.ar"), refs.valid_prefix(state, "aws_sqs_queue.q")
(True, False)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

_WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")
_STARTS = ("aws_", "data.aws_")
_OPERATORS = frozenset("=?:!<>+*/%&|")
_DECLARATION = re.compile(r'^\s*(resource|data)\s+"([\w-]+)"\s+"([\w-]+)"\s*$')
_HEREDOC = re.compile(r"<<-?([A-Za-z_][A-Za-z0-9_]*)$")


class _Node(dict):
    """A trie node: children by character, plus token ids (vocab) or end marks (references)."""

    __slots__ = ("complete", "open", "partial", "terminated")

    def __init__(self) -> None:
        super().__init__()
        self.partial: list[int] = []      # vocab: tokens that are all word, ending here
        self.terminated: list[int] = []   # vocab: tokens whose word part ends here, then more
        self.complete = False             # references: a whole `type.name` or `type.name.attr`
        self.open = False                 # references: a whole `type.name.attr` (free after)


def _add(root: _Node, text: str) -> _Node:
    node = root
    for ch in text:
        node = node.setdefault(ch, _Node())
    return node


class Lexer:
    """What a reply declares and where its text ends: inside code, a string, a comment...

    Attributes:
        declared: `(keyword, type, name)` of every closed `resource`/`data` block, and the open
            one's in `current`.
        tail: the word characters (`[A-Za-z0-9_.-]`) at the end of code, None outside code.
        expression: whether `tail` starts where an expression may.
    """

    def __init__(self) -> None:
        self.declared: set[tuple[str, str, str]] = set()
        self.current: tuple[str, str, str] | None = None
        self.tail: str | None = ""
        self.expression = False
        self._mode = "code"           # code, string, line-comment, block-comment, heredoc
        self._stack: list[str] = []   # open brackets in code; "$" for a template's `${`
        self._outer: list[str] = []   # the mode a template returns to
        self._line = ""
        self._marker = ""
        self._before = "\n"           # the last non-space character of code before the tail

    def feed(self, text: str) -> None:
        for ch in text:
            self._char(ch)

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
                self._stack.append("$")
                self._enter_code("${")
            elif mode == "string" and ch == '"' and not _escaped(line):
                self._enter_code('"')
            elif mode == "heredoc" and ch == "\n" and line.strip() == self._marker:
                self._enter_code("\n")
            return
        # code
        if ch in _WORD:
            self.tail = (self.tail or "") + ch
            return
        if ch == '"':
            self._mode, self.tail = "string", None
            return
        if ch == "#" or (ch == "/" and line.endswith("/") and self.tail == ""):
            self._mode, self.tail = "line-comment", None
            return
        if ch == "*" and line.endswith("/"):
            self._mode, self.tail = "block-comment", None
            return
        if ch == "\n" and (heredoc := _HEREDOC.search(line)):
            self._mode, self._marker, self.tail = "heredoc", heredoc.group(1), None
            return
        if ch in "([{":
            if ch == "{" and not self._stack and (found := _DECLARATION.match(line)):
                self.current = (found.group(1), found.group(2), found.group(3))
            self._stack.append(ch)
        elif ch in ")]}":
            if self._stack and self._stack[-1] == "$" and ch == "}":
                self._stack.pop()
                self._mode, self.tail = self._outer.pop(), None
                return
            if self._stack:
                self._stack.pop()
            if not self._stack and ch == "}" and self.current:
                self.declared.add(self.current)
                self.current = None
        self._enter_code(ch)

    def _enter_code(self, ch: str) -> None:
        self._mode = "code"
        self.tail = ""
        if ch not in " \t\r":
            self._before = ch
        inner = self._stack[-1] if self._stack else ""
        before = self._before
        self.expression = (before in _OPERATORS or before == "${"
                           or (before in "([," and inner in "(["))


def _escaped(line: str) -> bool:
    return (len(line) - len(line.rstrip("\\"))) % 2 == 1


class References:
    """The reference guard for one tokenizer and provider schema.

    Args:
        schema: the provider schema (`data.schema.provider_schema()`).
        tokens: the text of every token id (None: a guard that only answers `valid_prefix`).
    """

    def __init__(self, schema: dict[str, Any], tokens: list[str] | None = None) -> None:
        self._attributes = {
            kind: {t: {*e["block"].get("attributes", {}), *e["block"].get("block_types", {})}
                   for t, e in schema[key].items()}
            for kind, key in (("resource", "resource_schemas"), ("data", "data_source_schemas"))}
        self._vocab = _Node()
        self._texts = tokens or []
        self._size = len(self._texts)
        for token, text in enumerate(tokens or []):
            word = len(text) - len(text.lstrip("".join(_WORD)))
            node = _add(self._vocab, text[:word])
            (node.partial if word == len(text) and text else node.terminated).append(token)
        self._subtrees: dict[int, np.ndarray] = {}
        self._starting: dict[str, np.ndarray] = {}

    def text(self, token: int) -> str:
        """The text of a token id ("" for special tokens and ids past the vocabulary)."""
        return self._texts[token] if token < self._size else ""

    def state(self) -> Lexer:
        """A fresh lexer for one reply."""
        return Lexer()

    def _references(self, lexer: Lexer) -> _Node:
        """The trie of every reference the reply may write now."""
        root = _Node()
        for kind, type_, name in lexer.declared - {lexer.current}:
            prefix = f"data.{type_}.{name}" if kind == "data" else f"{type_}.{name}"
            _add(root, prefix).complete = True
            for attr in self._attributes[kind].get(type_, ()):
                node = _add(root, f"{prefix}.{attr}")
                node.complete = node.open = True
        return root

    def valid_prefix(self, lexer: Lexer, word: str) -> bool:
        """Whether `word`, written in an expression, can still become a reference that exists."""
        if not word.startswith(_STARTS):
            return True
        node: Any = self._references(lexer)
        for ch in word:
            if node.open and ch == ".":
                return True
            node = node.get(ch)
            if node is None:
                return False
        return True

    def forbidden(self, lexer: Lexer) -> np.ndarray | None:
        """The token ids (bool mask) that would write a reference that does not exist, or None
        when the text does not end in a place a reference is checked."""
        tail = lexer.tail
        if tail is None or not lexer.expression:
            return None
        if tail.startswith(_STARTS):
            guarded = np.ones(self._size, dtype=bool)
        elif any(s.startswith(tail) for s in _STARTS):
            guarded = self._guarded_after(tail)
        else:
            return None
        node: Any = self._references(lexer)
        for ch in tail:
            if node.open and ch == ".":
                return None  # past the attribute: free
            node = node.get(ch)
            if node is None:
                return None  # written before the guard could stop it; nothing to save
        allowed = np.zeros(self._size, dtype=bool)
        self._walk(node, self._vocab, allowed)
        return guarded & ~allowed

    def _walk(self, ref: _Node, vocab: _Node, allowed: np.ndarray) -> None:
        allowed[vocab.partial] = True
        if ref.complete:
            allowed[vocab.terminated] = True
        if ref.open and "." in vocab:
            allowed |= self._subtree(vocab["."])
        for ch, child in ref.items():
            if ch in vocab:
                self._walk(child, vocab[ch], allowed)

    def _subtree(self, node: _Node) -> np.ndarray:
        if id(node) not in self._subtrees:
            mask = np.zeros(self._size, dtype=bool)
            todo = [node]
            while todo:
                current = todo.pop()
                mask[current.partial] = True
                mask[current.terminated] = True
                todo += current.values()
            self._subtrees[id(node)] = mask
        return self._subtrees[id(node)]

    def _guarded_after(self, tail: str) -> np.ndarray:
        """Tokens that, after `tail` (a prefix of `aws_` or `data.aws_`), start a reference."""
        if tail not in self._starting:
            mask = np.zeros(self._size, dtype=bool)
            for start in _STARTS:
                if start.startswith(tail):
                    node: Any = self._vocab
                    for ch in start[len(tail):]:
                        node = node.get(ch) if node is not None else None
                    if node is not None:
                        mask |= self._subtree(node)
            self._starting[tail] = mask
        return self._starting[tail]
