"""Whether a path an expression builds may leave the configuration, for the screen.

A path may be written with literals, `path.module` and friends, `var`/`local` references (a
variable's default and a local's value are followed), `each.key`/`each.value` (the block's
`for_each` is followed), for-expression variables, and the string functions a policy allows.
Strings are read as terraform reads them (`\\u002f` is `/`). What the screen cannot follow is
refused: any other call, a resource's or a data source's attribute, a template directive, an
interpolation that may be empty in front of a host path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from iacforge.hcl.lexer import Token, decode
from iacforge.verify.screen.locate import Source, literal, tokens_of

HOST_PATH = re.compile(r"^\s*(?:/|~|[A-Za-z]:[\\/]|\\\\)")
_PARENT = re.compile(r"(?:^|[/\\])\.\.(?:[/\\]|$)")
#: Roots of references that are not attributes of something terraform computes.
_KNOWN_ROOTS = frozenset({"var", "local", "path", "each", "count", "terraform", "self"})
Resolve = Callable[[str, str], Any]


def path_problem(tokens: Sequence[Token], resolve: Resolve, allowed_calls: frozenset[str],
                 depth: int = 0, *, template_variables: bool = False) -> str:
    """Why the path these tokens build may leave the configuration, or "" when it may not.

    `resolve(kind, name)` gives a variable's default or a local's value; `resolve("each",
    "value")` the block's `for_each` value (None: unknown). With `template_variables` (inside a
    rendered template) a bare name is a template variable, which the screen cannot follow.
    """
    computed, empty_so_far = "", True
    for i, token in enumerate(tokens):
        text = decode(token.text) if token.kind == "text" else ""
        starts = empty_so_far or (i > 0 and tokens[i - 1].kind == "open")
        if text and starts and HOST_PATH.match(text):
            return f"host path {text.strip()!r}"
        if text and _PARENT.search(text):
            return f"'..' climbs out of the configuration in {text!r}"
        if token.kind == "punct" and token.text == "%{":
            return "the path is assembled by a template directive (%{ … }), which the " \
                   "screen cannot follow"
        if token.kind == "punct" and token.text == "${":
            empty_so_far = empty_so_far and _may_be_empty(tokens, i, resolve)
        elif text or (token.kind not in ("open", "close") and token.depth <= tokens[0].depth):
            empty_so_far = empty_so_far and not text
        inner = _followed(tokens, i, resolve, allowed_calls, depth, template_variables)
        if inner:
            return inner
        if not computed:
            computed = _unfollowable(tokens, i, allowed_calls, template_variables)
    return computed


def _followed(tokens: Sequence[Token], i: int, resolve: Resolve, allowed: frozenset[str],
              depth: int, template_variables: bool) -> str:
    """The problem in the value a reference at tokens[i] stands for, if it has one."""
    reference = reference_at(tokens, i)
    if reference is None or depth >= 4:
        return ""
    kind, name = reference
    value = resolve(*reference)
    if kind == "each":
        if value is None:
            return f"each.{name} comes from a for_each the screen cannot follow"
        inner = path_problem(tokens_of(value), resolve, allowed, depth + 1)
        return f"each.{name} comes from for_each: {inner}" if inner else ""
    if isinstance(value, str | list | dict | Source):
        inner = path_problem(tokens_of(value), resolve, allowed, depth + 1,
                             template_variables=template_variables)
        if inner:
            shown = value.text if isinstance(value, Source) else repr(value)
            return f"{kind}.{name} is {shown}: {inner}"
    return ""


def _unfollowable(tokens: Sequence[Token], i: int, allowed: frozenset[str],
                  template_variables: bool) -> str:
    token = tokens[i]
    following = tokens[i + 1].text if i + 1 < len(tokens) else ""
    before = tokens[i - 1].text if i else ""
    if token.kind != "ident" or before == ".":
        return ""
    if following == "(":
        return "" if token.text in allowed else \
            f"the path is computed by {token.text}(), which the screen cannot follow"
    if following == "." and token.text not in _KNOWN_ROOTS:
        return f"the path comes from {token.text}.…, which the screen cannot follow"
    if following != "." and template_variables and token.text not in ("for", "in", "if"):
        return f"the path comes from the template variable {token.text!r}"
    return ""


def _may_be_empty(tokens: Sequence[Token], i: int, resolve: Resolve) -> bool:
    """Whether the interpolation opening at tokens[i] may render as "" (so not a prefix)."""
    texts = [t.text for t in tokens[i + 1:i + 5]]
    if texts[:2] == ["path", "."] and texts[3:4] == ["}"]:
        return False
    reference = reference_at(tokens, i + 1)
    if reference and texts[3:4] == ["}"] and reference[0] in ("var", "local"):
        text = literal(resolve(*reference))
        return not (text and text.strip())
    return True


def reference_at(tokens: Sequence[Token], i: int) -> tuple[str, str] | None:
    """(`var` | `local` | `each`, name) when tokens[i:] start with such a reference."""
    if (tokens[i].kind == "ident" and tokens[i].text in ("var", "local", "each")
            and (i == 0 or tokens[i - 1].text != ".")
            and i + 2 < len(tokens) and tokens[i + 1].text == "."
            and tokens[i + 2].kind == "ident"):
        return tokens[i].text, tokens[i + 2].text
    return None
