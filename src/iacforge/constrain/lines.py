"""A guard for what HCL's lines require and the grammar does not say, layered on its mask.

The grammar ignores newlines wherever it ignores blanks (Lark's `%ignore`), but HCL does not:
a key and its `=`, a block's header and its `{`, stay on one line, and a line of a body begins
with a name, a string, `}` or a comment, never with an operator that would continue the line
before. The 41-family SFT adapter, guarded against loops (`repetition`), wrote such replies on
9 of 32 held-out generation tasks (`default_action` then `{` on the next line, `for_each` then
a comment, `</*` to start a line), which the grammar took and no HCL parser does. So, in code
at a body's level (the file's, a block's, an object's):

- on a line that so far holds only a name and labels, no token may end the line or start a
  comment (`#`, `/`), and blanks stop after 64 (`terraform fmt` aligns `=` past the longest
  name, at most 64 characters; a model can otherwise write blanks for ever) and are spaces
  (fmt's; the adapter wrote ` \t` 32 times between `content` and its `{`);
- after a key's `=`, the value begins on that line: no token may end it or start a comment
  (`prevent_destroy =  # 30 days`, `provider = /* vpc*/`: no value begins with `/`), and
  blanks stop after 64 and are spaces;
- at the start of a line, no token may begin with anything a body's line cannot begin with;
- once a key's value is a whole operand (`name = "q" `), no name follows on its line (only an
  operator, a newline or a comment can: the adapter went on `= "rate(1 hour)" schedule_...`).

And anywhere in code, as IaC-Eval's references never need more: no third blank line in a row,
and no more than 32 blanks to indent a line (a model can otherwise write blank lines for ever).
Anywhere at all, no carriage return: HCL parsers refuse one outside a CRLF line end, and a
reply has no need of CRLF.

Like the other guards it gives way where it would leave nothing the grammar allows.
"""

from __future__ import annotations

import re

import numpy as np

from iacforge.constrain.lexer import Lexer
from iacforge.constrain.vocab import WORD, Vocabulary

BLANKS = 64
BLANK_LINES = 2
INDENT = 32
_HEADER = re.compile(r'^\s*[A-Za-z_][\w-]*(\s+("[^"\n]*"|[A-Za-z_][\w-]*))*\s*$')
_LINE_START = (frozenset(WORD) - frozenset(".-")) | frozenset('"}#(/`')
_ENDING = re.compile(r"\n|#|/")
_VALUE_DUE = re.compile(r"^\s*[A-Za-z_][\w-]*\s*=\s*$")
_VALUE_DONE = re.compile(r'^\s*[A-Za-z_][\w-]*\s*=(?![=>])\s*\S.*?(\w\s|["\])}]\s*)$')
_FOR = re.compile(r"[{\[]\s*for\b")


class Lines:
    """The line guard for one tokenizer.

    Args:
        vocabulary: the tokenizer's.
    """

    def __init__(self, vocabulary: Vocabulary) -> None:
        texts = vocabulary.texts
        self._ending = np.array([bool(_ENDING.search(t)) for t in texts], dtype=bool)
        self._blank = np.array([bool(t) and not t.strip(" \t") for t in texts], dtype=bool)
        self._stray = np.array([bool(s := t.lstrip(" \t\r\n")) and s[0] not in _LINE_START
                                for t in texts], dtype=bool)
        self._breaking = np.array([t.lstrip(" \t").startswith(("\n", "\r", "#", "/"))
                                   for t in texts], dtype=bool)
        self._not_comment = np.array([not t.startswith(("/", "*")) for t in texts], dtype=bool)
        self._return = np.array(["\r" in t for t in texts], dtype=bool)
        self._tab = np.array(["\t" in t[:len(t) - len(t.lstrip(" \t"))] for t in texts],
                             dtype=bool)
        self._newline = np.array(["\n" in t[:len(t) - len(t.lstrip())] for t in texts],
                                 dtype=bool)
        self._name = np.array([t.lstrip(" \t")[:1] in WORD for t in texts], dtype=bool)

    def forbidden(self, lexer: Lexer) -> np.ndarray:
        """The token ids (bool mask) that would break a line HCL needs whole."""
        line = lexer.line
        stripped = line.strip()
        mask = self._return
        if lexer.at_line_start:
            if lexer.blank_lines >= BLANK_LINES:
                mask = mask | self._newline
            if len(line) >= INDENT:
                mask = mask | self._blank
        if not lexer.in_body:
            return mask
        if not stripped:
            return mask | self._stray
        if stripped == "/":
            return mask | self._not_comment
        if lexer.tail == "" and _VALUE_DONE.match(line) and not _FOR.search(line):
            return mask | self._name
        value_due = _VALUE_DUE.match(line) is not None
        if value_due or _HEADER.match(line):
            mask = mask | self._tab | (self._breaking if value_due else self._ending)
            if len(line) - len(line.rstrip(" \t")) >= BLANKS:
                mask = mask | self._blank
        return mask
