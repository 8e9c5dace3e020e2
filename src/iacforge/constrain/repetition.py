"""A guard against the loops a small model falls into, layered on the grammar's mask.

A grammar admits a comment line, or an attribute it has just seen, as often as a model writes
it, and a small model under a mask that forbids its first choice often writes one of those
again and again until its token budget runs out. Of the 49 held-out generation tasks the
41-family SFT adapter failed under `schema`, 30 were replies cut off in such a loop: comment
lines (the synthesized references have none; IaC-Eval's have at most two in a row) or one key
set over and over, which Terraform refuses anyway ("Attribute redefined"). So, after the text
written so far (read by `lexer.Lexer`):

- no comment begins after `COMMENT_RUN` comment lines in a row (blank lines do not end a run),
  nor after `COMMENTS` in all (IaC-Eval's references have at most 6);
- a key already set in a body (`{ ... }`) is not written again in it, nor `for_each` where
  `count` is set or the other way round (Terraform takes one of them), nor a block opened
  before that may appear once (`lifecycle`, a nested block of at most one item);
- a `resource`/`data` block does not take the name of an earlier block of its type.

Each is a mask of tokens like the reference guard's, lifted where it would leave nothing the
grammar allows. A name is refused where a token would end it (` bucket =`), and, in a body whose
keys the schema knows, so is any piece of it that no other key of that body continues: a model
spells a name in pieces (` schedule`, `_`, `expression`), and a piece that leads only to a taken
name would leave the grammar nothing but to finish it.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from iacforge.constrain.lexer import Lexer
from iacforge.constrain.vocab import Node, Vocabulary, add

COMMENT_RUN = 3
COMMENTS = 12
_COMMENT = re.compile(r"^\s*(#|//|/\*|/$)")
_META = frozenset({"count", "for_each", "depends_on", "provider", "lifecycle"})
_EITHER = {"count": "for_each", "for_each": "count"}
#: The body of a resource's `lifecycle` block (Terraform's, not the provider's schema).
_LIFECYCLE = {"attributes": {key: {} for key in ("create_before_destroy", "prevent_destroy",
                                                 "ignore_changes", "replace_triggered_by")},
              "block_types": {key: {} for key in ("precondition", "postcondition")}}


class Repetition:
    """The repetition guard for one tokenizer.

    Args:
        vocabulary: the tokenizer's.
        schema: the provider schema (`data.schema.provider_schema()`), for the keys of
            `resource`/`data` bodies; None: every body's keys are free.
    """

    def __init__(self, vocabulary: Vocabulary, schema: dict[str, Any] | None = None) -> None:
        self._vocab = vocabulary
        self._comments = np.array([bool(_COMMENT.match(t)) for t in vocabulary.texts], dtype=bool)
        self._blocks = {(kind, type_): entry["block"] for kind, key in
                        (("resource", "resource_schemas"), ("data", "data_source_schemas"))
                        for type_, entry in (schema or {}).get(key, {}).items()}

    def forbidden(self, lexer: Lexer) -> np.ndarray | None:
        """The token ids (bool mask) that would repeat what may not be repeated here, or None."""
        mask = None
        if (lexer.comment_lines >= COMMENT_RUN or lexer.comments >= COMMENTS) \
                and lexer.at_line_start:
            mask = self._comments.copy()
        naming = lexer.naming()
        if naming is not None and (naming[1] or naming[2]):
            word, taken, opened = naming
            found = self._block(lexer)
            taken = taken | {_EITHER[key] for key in taken & _EITHER.keys()} | {
                name for name in opened if found is not None and _once(name, *found)}
            if taken:
                names = self._completing(word, taken, None if found is None else _keys(*found))
                mask = names if mask is None else mask | names
        return mask

    def _block(self, lexer: Lexer) -> tuple[dict[str, Any], bool] | None:
        """The schema of the body the text ends in and whether it is a `resource`/`data`
        block's own (None: not known)."""
        body = lexer.body()
        if body is None:
            return None
        (kind, type_, _), path = body
        if path[:1] == ("lifecycle",):
            return (_LIFECYCLE, False) if len(path) == 1 else None
        block = self._blocks.get((kind, type_))
        for name in path:
            nested = (block or {}).get("block_types", {}).get(name)
            block = nested["block"] if nested else None
        return None if block is None else (block, not path)

    def _completing(self, word: str, taken: set[str], keys: set[str] | None) -> np.ndarray:
        """Tokens that, after `word`, would end it as one of `taken`, or (with the body's
        `keys`) would write a piece that only names in `taken` continue."""
        mask = np.zeros(self._vocab.size, dtype=bool)
        repeated = Node()
        for name in taken:
            if name.startswith(word):
                add(repeated, name[len(word):]).complete = True
        live = None
        if keys is not None:
            live = Node()
            for key in keys - taken:
                if key.startswith(word):
                    add(live, key[len(word):])
        for root in [self._vocab.root] + ([self._vocab.spaced] if word == "" else []):
            _walk(repeated, live, keys is None, root, mask)
        return mask


def _keys(block: dict[str, Any], top: bool) -> set[str]:
    """The keys a block's body may set (`top`: a `resource`/`data` body, meta-arguments too)."""
    keys = {name for name, attribute in block.get("attributes", {}).items()
            if not attribute.get("computed") or attribute.get("optional")}
    keys |= set(block.get("block_types", {}))
    return keys | _META if top else keys


def _once(name: str, block: dict[str, Any], top: bool) -> bool:
    """Whether a body (`top`: a `resource`/`data` body) may hold at most one block `name`."""
    if top and name == "lifecycle":
        return True
    nested = block.get("block_types", {}).get(name)
    return nested is not None and (nested.get("max_items") == 1
                                   or nested.get("nesting_mode") in ("single", "group"))


def _walk(repeated: Node, live: Node | None, free: bool, vocab: Node, mask: np.ndarray) -> None:
    """Marks the tokens at `vocab` (a word written along the path of `repeated`) that end a
    repeated name, or that no other key continues (`live`; `free`: any key may)."""
    if repeated.complete:
        mask[vocab.terminated] = True
    if not free and live is None:
        mask[vocab.partial] = True
    for ch, child in repeated.items():
        if ch in vocab:
            _walk(child, None if live is None else live.get(ch), free, vocab[ch], mask)
