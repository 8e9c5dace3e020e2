"""Text from a candidate made safe to show: control characters become visible escapes.

A candidate is hostile: a resource name or a diagnostic may carry `ESC[2J` (clear the screen),
an OSC title sequence or a right-to-left override that reorders what a reader sees. Human
formats (the table, repair feedback) show such characters as `\\x1b`, `\\u202e`; JSON and SARIF
keep the text exact, since JSON escapes control characters itself.
"""

from __future__ import annotations

import re

#: C0 and C1 controls and DEL (newline and tab are layout, and kept), and the bidirectional
#: embedding, override and isolate characters.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every control character written as a Python escape.

    >>> printable("bucket\\x1b[2J name\\twith tab")
    'bucket\\\\x1b[2J name\\twith tab'
    """
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"
