"""A tokenizer's vocabulary as a trie of the word characters each token begins with.

The guards (`references`, `repetition`) mask tokens by the word they would write: a token's
word part (`[A-Za-z0-9_.-]*` at its start) is a path in this trie, and the token sits at the
path's end, as `partial` (all of it is word) or `terminated` (more follows: a space, `=`, ...).
Tokens that begin with blanks and then a word (` bucket`, how byte-level tokenizers write a key
after its indentation) are also in a second trie, `spaced`, by the word after the blanks.
"""

from __future__ import annotations

import numpy as np

WORD = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")


class Node(dict):
    """A trie node: children by character, plus token ids (vocab) or end marks (references)."""

    __slots__ = ("complete", "indexed", "open", "partial", "terminated")

    def __init__(self) -> None:
        super().__init__()
        self.partial: list[int] = []      # vocab: tokens that are all word, ending here
        self.terminated: list[int] = []   # vocab: tokens whose word part ends here, then more
        self.complete = False             # references: a whole `type.name` or `type.name.attr`
        self.open = False                 # references: a whole `type.name.attr` (free after)
        self.indexed = False              # references: a whole `type.name` that takes `[key]`


def add(root: Node, text: str) -> Node:
    """The node of `text` under `root`, made as needed."""
    node = root
    for ch in text:
        node = node.setdefault(ch, Node())
    return node


def _insert(root: Node, text: str, token: int) -> None:
    word = len(text) - len(text.lstrip("".join(WORD)))
    node = add(root, text[:word])
    (node.partial if word == len(text) and text else node.terminated).append(token)


class Vocabulary:
    """The trie of one tokenizer's tokens.

    Args:
        tokens: the text of every token id ("" for special tokens).
    """

    def __init__(self, tokens: list[str]) -> None:
        self.texts = tokens
        self.size = len(tokens)
        self.root = Node()
        self.spaced = Node()
        for token, text in enumerate(tokens):
            _insert(self.root, text, token)
            if (word := text.lstrip(" \t")) != text and word[:1] in WORD:
                _insert(self.spaced, word, token)
        self._subtrees: dict[int, np.ndarray] = {}

    def text(self, token: int) -> str:
        """The text of a token id ("" for special tokens and ids past the vocabulary)."""
        return self.texts[token] if token < self.size else ""

    def find(self, word: str, root: Node | None = None) -> Node | None:
        """The node of the tokens whose word part is `word`, under `root` (default: `root`);
        None when no token's is."""
        node: Node | None = self.root if root is None else root
        for ch in word:
            node = node.get(ch) if node is not None else None
        return node

    def subtree(self, node: Node) -> np.ndarray:
        """Every token at or under `node` (bool mask, cached)."""
        if id(node) not in self._subtrees:
            mask = np.zeros(self.size, dtype=bool)
            todo = [node]
            while todo:
                current = todo.pop()
                mask[current.partial] = True
                mask[current.terminated] = True
                todo += current.values()
            self._subtrees[id(node)] = mask
        return self._subtrees[id(node)]
