"""A guard against the loops a small model falls into, layered on the grammar's mask.

A grammar admits a comment line, or an attribute it has just seen, as often as a model writes
it, and a small model under a mask that forbids its first choice often writes one of those
again and again until its token budget runs out. Of the 49 held-out generation tasks the
41-family SFT adapter failed under `schema`, 30 were replies cut off in such a loop: comment
lines (the synthesized references have none; IaC-Eval's have at most two in a row) or one key
set over and over, which Terraform refuses anyway ("Attribute redefined"). So, after the text
written so far (read by `lexer.Lexer`):

- no comment begins after `COMMENT_RUN` comment lines in a row (blank lines do not end a run);
- a key already set in a body (`{ ... }`) is not written again in it;
- a `resource`/`data` block does not take the name of an earlier block of its type.

Each is a mask of tokens like the reference guard's, lifted where it would leave nothing the
grammar allows. A name that another begins (`name` of `name_prefix`) is refused as a whole
token too; the longer name can still be written in pieces.
"""

from __future__ import annotations

import re

import numpy as np

from iacforge.constrain.lexer import Lexer
from iacforge.constrain.vocab import Vocabulary

COMMENT_RUN = 3
_COMMENT = re.compile(r"^\s*(#|//|/\*|/$)")


class Repetition:
    """The repetition guard for one tokenizer.

    Args:
        vocabulary: the tokenizer's.
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        self._vocab = vocabulary
        self._comments = np.array([bool(_COMMENT.match(t)) for t in vocabulary.texts], dtype=bool)

    def forbidden(self, lexer: Lexer) -> np.ndarray | None:
        """The token ids (bool mask) that would repeat what may not be repeated here, or None."""
        mask = None
        if lexer.comment_lines >= COMMENT_RUN and lexer.at_line_start:
            mask = self._comments.copy()
        naming = lexer.naming()
        if naming is not None and naming[1]:
            names = self._completing(*naming)
            mask = names if mask is None else mask | names
        return mask

    def _completing(self, word: str, taken: set[str]) -> np.ndarray:
        """Tokens that would end `word` as one of the names in `taken`."""
        mask = np.zeros(self._vocab.size, dtype=bool)
        roots = [self._vocab.root] + ([self._vocab.spaced] if word == "" else [])
        for name in taken:
            if not name.startswith(word):
                continue
            for root in roots:
                if (node := self._vocab.find(name[len(word):], root)) is not None:
                    mask[node.partial] = True
                    mask[node.terminated] = True
        return mask
