"""The same grammars as GBNF, for llama.cpp servers (`grammar` in the request).

llguidance converts GBNF to its Lark dialect, not back, so this writes GBNF from the Lark text
`grammar.py` builds (its own small subset: rules, terminals, string literals, `/regex/`
terminals of literals, classes, groups, `|`, `* + ?` and `{m,n}`). What GBNF lacks is written out:

- `%ignore` whitespace and comments: a rule `gap` before every terminal of a (lowercase) rule.
- `&` and `~`: the one form the grammars use, a name pattern minus a set of words
  (`/[a-z_][a-z0-9_-]*/ & ~("true" | "false")`, or `{0,n}` for `*`), becomes an exact rule over
  a trie of the words.

The approximation: GBNF has no lexer, so two terminals may meet without space (`resourcex`
reads as `resource x`) and a terminal is not matched longest-first; what Lark would lex as one
name GBNF may split. Every reply the Lark grammar accepts, the GBNF accepts.

>>> print(to_gbnf('start: "a" B*\\nB: /[0-9]+/\\n%ignore WS\\nWS: /[ ]+/'), end="")
root ::= reply gap
reply ::= gap "a" (gap B)*
B ::= ([0-9]+)
WS ::= ([ ]+)
gap ::= (WS)*
"""

from __future__ import annotations

import json
import re
import string

_TOKEN = re.compile(r'\s+|//[^\n]*|"(?:[^"\\]|\\.)*"|/(?:[^/\\\n]|\\.)+/|[A-Za-z_][A-Za-z0-9_]*'
                    r"|[()|*+?&~]")
_NAME_CHARS = set(string.ascii_letters + string.digits + "_-")


def to_gbnf(lark: str) -> str:
    """GBNF for a grammar in the Lark subset `grammar.py` writes (a ValueError otherwise)."""
    rules, ignored = _rules(lark)
    extra = _Extra()
    out = ["root ::= reply gap"]
    for name, body in rules.items():
        out.append(f"{_name(name)} ::= {_Expansion(body, name.isupper(), extra).emit()}")
    out.append("gap ::= (" + " | ".join(_name(n) for n in ignored) + ")*" if ignored
               else 'gap ::= ""')
    # the rules GBNF needs that Lark had as operators
    out += [f"{name} ::= {body}" for name, body in extra.rules.items()]
    return "\n".join(out) + "\n"


def _rules(lark: str) -> tuple[dict[str, str], list[str]]:
    """`name → expansion text` (continuation lines joined) and the `%ignore`d terminals."""
    rules: dict[str, str] = {}
    ignored: list[str] = []
    current = None
    for line in lark.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("//"):
            continue
        if stripped.startswith("%ignore"):
            ignored.append(stripped.split()[1])
        elif line[0].isspace() and current:
            rules[current] += " " + stripped
        elif found := re.match(r"([A-Za-z_][A-Za-z0-9_]*)\s*:\s*(.*)$", line):
            current = found.group(1)
            rules.pop(current, None)  # a later definition wins
            rules[current] = found.group(2)
        else:
            raise ValueError(f"not a rule: {line[:80]}")
    return rules, ignored


def _name(name: str) -> str:
    # GBNF names are letters, digits and dashes; `root` starts it (Lark's `start` is renamed:
    # a converter back to Lark would call `root` that)
    return "reply" if name == "start" else name.replace("_", "-")


class _Extra:
    """Rules made along the way (name-minus-words tries), emitted after the grammar's own."""

    def __init__(self) -> None:
        self.rules: dict[str, str] = {}

    def add(self, body: str) -> str:
        for name, existing in self.rules.items():
            if existing == body:
                return name
        name = f"x{len(self.rules)}"
        self.rules[name] = body
        return name


class _Expansion:
    """A recursive-descent reader of one Lark expansion, writing GBNF."""

    def __init__(self, text: str, terminal: bool, extra: _Extra) -> None:
        self.extra = extra
        self.tokens: list[str] = []
        at = 0
        while at < len(text):
            found = _TOKEN.match(text, at)
            if not found:
                raise ValueError(f"cannot read {text[at:][:40]!r}")
            if not found.group().isspace() and not found.group().startswith("//"):
                self.tokens.append(found.group())
            at = found.end()
        self.terminal = terminal
        self.at = 0

    def emit(self) -> str:
        result = self._alternatives()
        if self.at != len(self.tokens):
            raise ValueError(f"unexpected {self.tokens[self.at]!r}")
        return result

    def _peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _alternatives(self) -> str:
        options = [self._sequence()]
        while self._peek() == "|":
            self.at += 1
            options.append(self._sequence())
        return " | ".join(options)

    def _sequence(self) -> str:
        items = []
        while self._peek() not in (None, "|", ")"):
            items.append(self._item())
        return " ".join(i for i in items if i) or '""'

    def _item(self) -> str:
        token = self.tokens[self.at]
        self.at += 1
        if token == "(":
            inner = self._alternatives()
            if self._peek() != ")":
                raise ValueError("unbalanced (")
            self.at += 1
            atom, lexeme = f"({inner})", False
        elif token.startswith('"'):
            atom, lexeme = _literal(json.loads(token)), True
        elif token.startswith("/"):
            atom, lexeme = f"({_Regex(token[1:-1]).emit()})", True
        elif token[0].isalpha() or token[0] == "_":
            atom, lexeme = _name(token), token.isupper()
        else:
            raise ValueError(f"unexpected {token!r}")
        if self._peek() == "&":
            atom = self._minus_words(atom)
        # a rule's lexemes may be preceded by what Lark ignores
        if lexeme and not self.terminal and atom != '""':
            atom = f"gap {atom}" if self._peek() not in ("*", "+", "?") else f"(gap {atom})"
        if self._peek() in ("*", "+", "?"):
            atom += self.tokens[self.at]
            self.at += 1
        return atom

    def _minus_words(self, atom: str) -> str:
        """`pattern & ~(words)`, for a name pattern: the names it matches but the words."""
        self.at += 1
        if self.tokens[self.at : self.at + 2] != ["~", "("]:
            raise ValueError("only `& ~(\"word\" | ...)` is supported")
        self.at += 2
        words = []
        while self._peek() != ")":
            token = self.tokens[self.at]
            if token.startswith('"'):
                words.append(json.loads(token))
            elif token != "|":
                raise ValueError(f"unexpected {token!r} in a word list")
            self.at += 1
        self.at += 1
        found = re.fullmatch(r"\(\[([^\]]+)\] \[([^\]]+)\](?:\*|\{0,(\d+)\})\)", atom)
        if not found:
            raise ValueError(f"`& ~` needs a name pattern, not {atom}")
        first, rest = _class_chars(found.group(1)), _class_chars(found.group(2))
        longest = None if found.group(3) is None else int(found.group(3)) + 1
        return _not_words(words, first, rest, longest, self.extra)


def _literal(text: str) -> str:
    if not text:
        return '""'
    return '"' + "".join(_char(c, '"') for c in text) + '"'


def _char(c: str, special: str) -> str:
    if c in special or c == "\\" or not c.isprintable():
        return f"\\x{ord(c):02x}" if ord(c) < 256 else f"\\u{ord(c):04x}"
    return c


def _class(chars: set[str]) -> str:
    return "[" + "".join(_char(c, "[]^-\"") for c in sorted(chars)) + "]"


def _class_chars(spec: str) -> set[str]:
    """The characters of a GBNF class body this module wrote (ranges and `\\xHH`)."""
    chars: set[str] = set()
    items = re.findall(r"\\x([0-9a-f]{2})|(.)", spec)
    values = [chr(int(h, 16)) if h else c for h, c in items]
    i = 0
    while i < len(values):
        if i + 2 < len(values) and items[i + 1][1] == "-":
            chars |= {chr(x) for x in range(ord(values[i]), ord(values[i + 2]) + 1)}
            i += 3
        else:
            chars.add(values[i])
            i += 1
    return chars


def _not_words(words: list[str], first: set[str], rest: set[str], longest: int | None,
               extra: _Extra) -> str:
    """A rule: `[first][rest]*` (at most `longest` characters) but none of `words` (a trie of
    the words, left early)."""

    def tail(written: int) -> str:
        if longest is None:
            return extra.add(f"{_class(rest)}*")
        room = longest - written
        return extra.add(f"{_class(rest)}{{0,{room}}}") if room else '""'

    if longest is not None and any(len(w) >= longest for w in words):
        raise ValueError("`& ~` words must be shorter than the names' bound")

    def node(prefix: str) -> str:
        full = len(prefix) == longest
        nexts = sorted({w[len(prefix)] for w in words if w.startswith(prefix) and w != prefix})
        allowed = set() if full else first if not prefix else rest
        options = []
        if prefix and prefix not in words:
            options.append('""')
        off = allowed - set(nexts)
        if off:
            options.append(f"{_class(off)} {tail(len(prefix) + 1)}")
        options += [f'"{_char(c, chr(34))}" {node(prefix + c)}' for c in nexts if c in allowed]
        return extra.add(" | ".join(options) or '""')

    return node("")


class _Regex:
    """The regular expressions the grammars use, as GBNF: literals, escapes, classes,
    groups, `|`, `* + ?`, `{m,n}` (anything else is a ValueError)."""

    def __init__(self, text: str) -> None:
        self.text, self.at = text, 0

    def emit(self) -> str:
        result = self._alternatives()
        if self.at != len(self.text):
            raise ValueError(f"cannot convert regex at {self.text[self.at:][:20]!r}")
        return result

    def _alternatives(self) -> str:
        options = [self._sequence()]
        while self.at < len(self.text) and self.text[self.at] == "|":
            self.at += 1
            options.append(self._sequence())
        return " | ".join(options)

    def _sequence(self) -> str:
        items = []
        while self.at < len(self.text) and self.text[self.at] not in "|)":
            items.append(self._item())
        return " ".join(items) or '""'

    def _item(self) -> str:
        c = self.text[self.at]
        self.at += 1
        if c == "(":
            inner = self._alternatives()
            if self.at >= len(self.text) or self.text[self.at] != ")":
                raise ValueError("unbalanced ( in regex")
            self.at += 1
            atom = f"({inner})"
        elif c == "[":
            atom = self._class()
        elif c == "\\":
            atom = _literal(self._escape())
        elif c == ".":
            atom = "[^\\x0a]"
        elif c in "*+?{":
            raise ValueError(f"cannot convert regex quantifier at {self.text[self.at - 1:]!r}")
        else:
            atom = _literal(c)
        if self.at < len(self.text) and self.text[self.at] in "*+?":
            atom += self.text[self.at]
            self.at += 1
        elif bounded := re.match(r"\{[0-9]+(,[0-9]*)?\}", self.text[self.at:]):
            atom += bounded.group()  # GBNF writes a bounded repetition as regexes do
            self.at += bounded.end()
        return atom

    def _escape(self) -> str:
        c = self.text[self.at]
        self.at += 1
        if c.isalnum() and c not in "ntr":
            raise ValueError(f"cannot convert regex escape \\{c}")
        return {"n": "\n", "t": "\t", "r": "\r"}.get(c, c)

    def _class(self) -> str:
        negate = self.text[self.at] == "^"
        self.at += negate
        chars: list[tuple[str, str]] = []
        first = True
        while self.text[self.at] != "]" or first:
            first = False
            c = self.text[self.at]
            self.at += 1
            low = self._escape() if c == "\\" else c
            high = low
            if self.text[self.at] == "-" and self.text[self.at + 1] != "]":
                self.at += 1
                c = self.text[self.at]
                self.at += 1
                high = self._escape() if c == "\\" else c
            chars.append((low, high))
        self.at += 1
        body = "".join(_char(lo, "[]^-\"") + ("" if lo == hi else "-" + _char(hi, "[]^-\""))
                       for lo, hi in chars)
        return f"[{'^' if negate else ''}{body}]"
