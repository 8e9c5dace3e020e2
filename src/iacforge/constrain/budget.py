"""A guard that closes the reply before its token budget cuts it off.

A reply cut by `max_new_tokens` ends inside a block: it cannot parse, whatever it held. The
grammar cannot see the budget, so a model that lost its way (one more resource, one more
nested block) writes until it is cut. In the last `reserve` tokens of the budget this guard
lets through only what closes: `}`, `]`, `)`, the closing fence and end-of-text (and, within
a line, what ends the line), where the grammar allows any of them. Where it allows none
(inside a value, or a body whose required arguments are not all set yet) the guard gives
way, as every guard does, and the model finishes what it is writing; in a string it waits
for the string to end, and a comment ends at its line. So a reply that would have been cut
ends at the first place it can.

Only the last `reserve` tokens are touched: a reply that ends before them is sampled as
without the guard.
"""

from __future__ import annotations

import numpy as np

from iacforge.constrain.lexer import Lexer
from iacforge.constrain.vocab import Vocabulary

#: Tokens before the budget's end from which only closing text is let through.
RESERVE = 64
_BLANK = frozenset(" \t\n")
_CLOSERS = frozenset("}])`")


class Budget:
    """The budget guard for one tokenizer and one reply budget.

    Args:
        vocabulary: the tokenizer's.
        max_new_tokens: the reply's budget.
        reserve: tokens before its end from which the guard acts.
    """

    def __init__(self, vocabulary: Vocabulary, max_new_tokens: int,
                 reserve: int = RESERVE) -> None:
        self.start = max_new_tokens - reserve
        texts = vocabulary.texts
        # blanks and closers, with a closer (at a line's start) or a newline or closer (within
        # a line); "" is a special token (end-of-text among them), which the grammar allows
        # only where the reply may end
        chars = [set(t) for t in texts]
        only = [not t or c <= _BLANK | _CLOSERS for t, c in zip(texts, chars, strict=True)]
        self._not_closer = ~np.array([o and (not t or bool(c & _CLOSERS))
                                      for t, c, o in zip(texts, chars, only, strict=True)])
        self._not_closing = ~np.array([o and (not t or bool(c & (_CLOSERS | {"\n"})))
                                       for t, c, o in zip(texts, chars, only, strict=True)])
        self._no_newline = np.array(["\n" not in t for t in texts], dtype=bool)

    def forbidden(self, lexer: Lexer) -> np.ndarray | None:
        """Past the budget's start: every token that does not close (None before it)."""
        if lexer.tokens < self.start or lexer.mode in ("string", "heredoc", "block-comment"):
            return None
        if lexer.mode == "line-comment":
            return self._no_newline
        return self._not_closer if lexer.at_line_start else self._not_closing
