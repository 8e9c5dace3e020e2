"""References that name only what exists: a guard layered on the grammar's mask.

The grammar cannot know which `resource` and `data` blocks a reply has declared, so in `schema`
mode a reference `aws_x.y.attr` (or `data.aws_x.y.attr`) is checked here as it is written: its
type and name must be those of a block declared earlier in the reply (not the block it is
written in: Terraform refuses a self-reference), and its attribute one the type's schema has
(computed ones included: `arn`, `id`); a block with `count` or `for_each` takes an instance
key (`[0]`) before its attribute. Past the attribute (`.0.x`, `[0]`, `.*`) or the key it is
free, but nothing follows a string, number or bool (`redrive_policy.arn`).
A block's `provider = aws.<alias>` may only name an alias a `provider "aws"` block declared.

It reads the reply's text with a small lexer (strings, `${}` templates, heredocs, comments,
brackets) and guards only a reference in an expression position: after `=`, an operator, `?`,
`:`, `${`, or `(`/`[`/`,` or a line's start inside a call or tuple. A reference that follows
an index (`aws_x.y[0].attr`) is not checked.

>>> schema = {"resource_schemas": {"aws_sqs_queue": {"block": {"attributes": {"arn": {}}}}},
...           "data_source_schemas": {}}
>>> refs = References(schema)
>>> state = Lexer()
>>> state.feed('resource "aws_sqs_queue" "dlq" {\\n}\\nresource "aws_sqs_queue" "q" {\\n  x = ')
>>> refs.valid_prefix(state, "aws_sqs_queue.dlq.ar"), refs.valid_prefix(state, "aws_sqs_queue.q")
(True, False)
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from iacforge.constrain.lexer import Lexer
from iacforge.constrain.vocab import Node, Vocabulary, add

#: What a reference the guard checks begins with: any word that begins so (`aws-x.y`,
#: `aws.x` are no reference either) is one, or nothing.
_STARTS = ("aws", "data.aws")
_PRIMITIVE = ("string", "number", "bool")
_PROVIDER = re.compile(r"^\s*provider\s*=\s*(aws[\w.-]*)$")


class References:
    """The reference guard for one tokenizer and provider schema.

    Args:
        schema: the provider schema (`data.schema.provider_schema()`).
        vocabulary: the tokenizer's (None: a guard that only answers `valid_prefix`).
    """

    def __init__(self, schema: dict[str, Any], vocabulary: Vocabulary | None = None) -> None:
        # each type's attributes and nested blocks, and whether anything may follow one
        # (`.0.x`, `["k"]`): not after a string, number or bool
        self._attributes = {
            kind: {t: {**{a: spec.get("type") not in _PRIMITIVE
                          for a, spec in e["block"].get("attributes", {}).items()},
                       **dict.fromkeys(e["block"].get("block_types", {}), True)}
                   for t, e in schema[key].items()}
            for kind, key in (("resource", "resource_schemas"), ("data", "data_source_schemas"))}
        self._vocab = vocabulary or Vocabulary([])
        self._starting: dict[str, np.ndarray] = {}
        self._index = np.array([t.startswith("[") for t in self._vocab.texts], dtype=bool)

    def _references(self, lexer: Lexer) -> Node:
        """The trie of every reference the reply may write now."""
        root = Node()
        for kind, type_, name in lexer.declared - {lexer.current}:
            prefix = f"data.{type_}.{name}" if kind == "data" else f"{type_}.{name}"
            node = add(root, prefix)
            node.complete = True
            if (kind, type_, name) in lexer.counted:
                node.indexed = True
                continue  # an instance key comes first (`[0]`), then anything
            for attr, traversable in self._attributes[kind].get(type_, {}).items():
                node = add(root, f"{prefix}.{attr}")
                node.complete, node.open = True, traversable
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
        if (provider := _PROVIDER.match(lexer.line)) and provider.group(1) == tail \
                and (body := lexer.body()) is not None and body[1] == ():
            return self._provider(lexer)
        if tail.startswith(_STARTS):
            guarded = np.ones(self._vocab.size, dtype=bool)
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
                # `aw` and no declared block to name (the block it is written in does not
                # count): nothing may make it `aws`; past that, nothing to save
                return None if tail.startswith(_STARTS) else guarded
        allowed = np.zeros(self._vocab.size, dtype=bool)
        self._walk(node, self._vocab.root, allowed)
        if node.complete and not (node.open or node.indexed):
            allowed &= ~self._index  # no `[` after a string or an object not counted
        return guarded & ~allowed

    def _provider(self, lexer: Lexer) -> np.ndarray | None:
        """What `provider = aws…` may not go on with: an alias no provider block declared."""
        root = Node()
        add(root, "aws").complete = True
        for alias in lexer.aliases:
            add(root, f"aws.{alias}").complete = True
        node: Any = root
        for ch in lexer.tail or "":
            node = node.get(ch)
            if node is None:
                return None
        allowed = np.zeros(self._vocab.size, dtype=bool)
        self._walk(node, self._vocab.root, allowed)
        return ~allowed

    def _walk(self, ref: Node, vocab: Node, allowed: np.ndarray) -> None:
        allowed[vocab.partial] = True
        if ref.complete:
            allowed[vocab.terminated] = True
        if ref.open and "." in vocab:
            allowed |= self._vocab.subtree(vocab["."])
        for ch, child in ref.items():
            if ch in vocab:
                self._walk(child, vocab[ch], allowed)

    def _guarded_after(self, tail: str) -> np.ndarray:
        """Tokens that, after `tail` (a prefix of `aws_` or `data.aws_`), start a reference."""
        if tail not in self._starting:
            mask = np.zeros(self._vocab.size, dtype=bool)
            for start in _STARTS:
                if start.startswith(tail):
                    node: Any = self._vocab.root
                    for ch in start[len(tail):]:
                        node = node.get(ch) if node is not None else None
                    if node is not None:
                        mask |= self._vocab.subtree(node)
            self._starting[tail] = mask
        return self._starting[tail]
