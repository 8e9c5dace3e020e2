"""Locate the top-level items (attributes and nested blocks) inside an HCL block's body.

python-hcl2 and its checkov fork give values, not source spans, and have no writer; to remove
an argument from a provider block while keeping every other byte (and so every line number
the user sees in diagnostics) we need spans. This small scanner finds them: it understands
strings with `${}` nesting, heredocs (the lexer's rule, `hcl.lexer.HEREDOC`) and all three
comment styles, and nothing more.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from iacforge.hcl.lexer import HEREDOC, heredoc_end

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


@dataclass(frozen=True)
class Item:
    """An attribute (`name = …`) or nested block (`name "label" { … }`) in a body."""

    name: str
    kind: str  # "attribute" | "block"
    start: int
    end: int  # offset just past the item (its closing brace or the end of its line)
    labels: tuple[str, ...] = ()


def skip_trivia(text: str, i: int, *, newlines: bool = True) -> int:
    """Skip white space and comments from offset i."""
    while i < len(text):
        c = text[i]
        if c in " \t\r" or (c == "\n" and newlines):
            i += 1
        elif text.startswith("#", i) or text.startswith("//", i):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = len(text) if j < 0 else j + 2
        else:
            break
    return i


def _skip_string(text: str, i: int) -> int:
    """From an opening quote, return the offset after the closing quote."""
    i += 1
    while i < len(text):
        c = text[i]
        if c == "\\":
            i += 2
        elif c == '"':
            return i + 1
        elif text.startswith(("$${", "%%{"), i):  # escapes: literal text, not a template
            i += 3
        elif text.startswith("${", i) or text.startswith("%{", i):
            i = skip_expression_to(text, i + 2, "}") + 1
        else:
            i += 1
    return i


def _end_of_heredoc(text: str, opening: re.Match[str]) -> int:
    end = heredoc_end(opening.group(1)).search(text, opening.end())
    return end.end() if end else len(text)


def skip_expression_to(text: str, i: int, closer: str) -> int:
    """Return the offset of the `closer` that balances the bracket opened just before i."""
    pairs = {"{": "}", "[": "]", "(": ")"}
    stack = [closer]
    while i < len(text):
        i = skip_trivia(text, i)
        if i >= len(text):
            break
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
            continue
        heredoc = HEREDOC.match(text, i)
        if heredoc:
            i = _end_of_heredoc(text, heredoc)
            continue
        if c in pairs:
            stack.append(pairs[c])
        elif c == stack[-1]:
            stack.pop()
            if not stack:
                return i
        i += 1
    return len(text)


def _end_of_attribute(text: str, i: int) -> int:
    """From just after `=`, the offset of the newline that ends the attribute's expression."""
    while i < len(text):
        i = skip_trivia(text, i, newlines=False)
        if i >= len(text) or text[i] == "\n":
            return i
        c = text[i]
        if c == '"':
            i = _skip_string(text, i)
        elif heredoc := HEREDOC.match(text, i):
            i = _end_of_heredoc(text, heredoc)
        elif c in "{[(":
            i = skip_expression_to(text, i + 1, {"{": "}", "[": "]", "(": ")"}[c]) + 1
        elif c == "}":
            return i  # a one-line block: `provider "aws" { region = "x" }`
        else:
            i += 1
    return i


def body_items(text: str, open_brace: int) -> list[Item]:
    """The top-level items of the body whose `{` is at offset `open_brace`."""
    items: list[Item] = []
    close = skip_expression_to(text, open_brace + 1, "}")
    i = open_brace + 1
    while True:
        i = skip_trivia(text, i)
        if i >= close:
            return items
        name = _IDENT.match(text, i)
        if not name:
            return items  # not something we understand; leave the rest alone
        j = skip_trivia(text, name.end(), newlines=False)
        if text.startswith("=", j) and not text.startswith("==", j):
            end = _end_of_attribute(text, j + 1)
            items.append(Item(name.group(), "attribute", i, end))
            i = end
            continue
        labels: list[str] = []
        while j < close and text[j] == '"':
            k = _skip_string(text, j)
            labels.append(text[j + 1 : k - 1])
            j = skip_trivia(text, k, newlines=False)
        while j < close and _IDENT.match(text, j) and text[j] != "{":
            m = _IDENT.match(text, j)
            assert m is not None
            labels.append(m.group())
            j = skip_trivia(text, m.end(), newlines=False)
        if j >= close or text[j] != "{":
            return items
        end = skip_expression_to(text, j + 1, "}") + 1
        items.append(Item(name.group(), "block", i, end, tuple(labels)))
        i = end


def top_level_blocks(text: str) -> list[Item]:
    """The top-level blocks of a whole file, as Items (with `start` at the block keyword)."""
    wrapped = "{" + text + "\n}"
    return [Item(it.name, it.kind, it.start - 1, it.end - 1, it.labels)
            for it in body_items(wrapped, 0)]


def blank(text: str, start: int, end: int) -> str:
    """Replace text[start:end] with spaces, keeping line ends so line numbers do not move."""
    return text[:start] + re.sub(r"[^\r\n]", " ", text[start:end]) + text[end:]


def brace_of(text: str, item: Item) -> int:
    """Offset of the `{` that opens a block item's body."""
    return text.index("{", item.start)
