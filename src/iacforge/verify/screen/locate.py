"""Where things are in a parsed candidate, for the screen: blocks, values, tokens and lines.

The parser gives values (each HCL attribute wrapped in a one-element list, .tf.json ones not)
and the lines of most blocks; expressions, positions and the blocks it gives no lines for come
from the lexer (expressions.py).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from iacforge.hcl.lexer import Span, Token, decode, line_of, tokenize, top_level
from iacforge.hcl.model import Block, TerraformModel
from iacforge.hcl.scan import Item, body_items, brace_of, top_level_blocks

_TYPED = ("resource", "data", "ephemeral")


def sources(model: TerraformModel) -> Iterator[tuple[str, list[Token], Callable[[int], int]]]:
    """(file, tokens, offset → line) for each .tf file and each string of each .tf.json file."""
    for name, text in sorted(model.files.items()):
        if name.endswith(".tf.json"):
            try:
                doc = json.loads(text)
            except ValueError:
                continue
            yield name, _json_nesting(text), lambda offset, text=text: line_of(text, offset)
            for value in _strings(doc):
                line = line_of(text, max(0, text.find(json.dumps(value)[1:-1][:80])))
                yield name, tokenize(value, template=True), lambda _offset, line=line: line
        elif name.endswith(".tf"):
            yield name, _lexed(text)[0], lambda offset, text=text: line_of(text, offset)


def _json_nesting(text: str) -> list[Token]:
    """Punctuation tokens for a JSON text's brackets, so the nesting rule sees its depth."""
    out, depth, in_string, escaped = [], 0, False, False
    for i, c in enumerate(text):
        if escaped:
            escaped = False
        elif in_string:
            escaped, in_string = c == "\\", c != '"'
        elif c == '"':
            in_string = True
        elif c in "[{":
            out.append(Token("punct", c, i, depth))
            depth += 1
        elif c in "]}":
            depth -= 1
    return out


def _strings(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            yield item
        elif isinstance(item, dict):
            stack += [*item.keys(), *item.values()]
        elif isinstance(item, list):
            stack += item


def typed_blocks(model: TerraformModel) -> Iterator[tuple[str, str, Block, dict]]:
    """(kind, type, block, body) of resources, data sources (also inside `check` blocks).

    The type is read as terraform reads a label: `"null\\u005fresource"` is `null_resource`.
    """
    for block in model.blocks:
        if block.kind in _TYPED and block.labels:
            yield block.kind, decode(block.labels[0]), block, block.body
        elif block.kind == "check":
            for entry in entries(block.body.get("data")):
                for type_, named in entry.items():
                    for by_name in entries(named):
                        for body in by_name.values():
                            for one in entries(body):
                                yield "data", decode(type_), block, one


def entries(value: Any) -> list[dict]:
    """A nested block's entries: HCL gives a list of dicts, .tf.json a dict or a list."""
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, dict)]


def root_name(expression: str) -> str:
    """The first name of a reference: `null` for `${null.foo}` or `null.foo`."""
    match = re.match(r"^\$?\{?\s*([A-Za-z_][\w-]*)", expression)
    return match.group(1) if match else expression


def address_at(model: TerraformModel, file: str, line: int | None) -> str | None:
    """The address of the top-level block holding `line` of `file`, if one does."""
    text = model.files.get(file, "")
    if line is None or not file.endswith(".tf"):
        return None
    for span in _lexed(text)[1]:  # the parser gives no lines for some block kinds
        if line_of(text, span.start) <= line <= line_of(text, span.end):
            return Block(span.kind, span.labels, {}, file).address
    return None


@functools.lru_cache(maxsize=8)
def _lexed(text: str) -> tuple[list[Token], list[Span]]:
    """A .tf file's tokens and top-level blocks (kept: several rules ask for them)."""
    tokens = tokenize(text)
    return tokens, top_level(tokens)


def line_in_block(model: TerraformModel, block: Block, pattern: str) -> int | None:
    """The first line of `block` matching `pattern` (its first line when none does)."""
    text = model.files.get(block.file, "")
    lines = text.splitlines()
    first, last = (block.start_line or 1) - 1, block.end_line or len(lines)
    if block.start_line is None and block.file.endswith(".tf"):
        for span in _lexed(text)[1]:  # the parser gives no lines for some block kinds
            if (span.kind, span.labels) == (block.kind, block.labels):
                first, last = line_of(text, span.start) - 1, line_of(text, span.end)
                break
    regex = re.compile(pattern)
    for number in range(first, min(last, len(lines))):
        if regex.search(lines[number]):
            return number + 1
    return first + 1


@dataclass(frozen=True)
class Source:
    """An attribute's expression as written in a .tf file (the parser re-renders expressions,
    with Python's quotes inside lists: `['/etc/passwd']`)."""

    text: str


def written(model: TerraformModel, block: Block, key: str, body: dict | None = None) -> Any:
    """An attribute's expression as written (a Source) for a top-level .tf block's own
    attribute, else its parsed value."""
    value = block.attr(key, body)
    if value is None or body not in (None, block.body) or not block.file.endswith(".tf"):
        return value
    text = model.files.get(block.file, "")
    for item in _attributes(text, block.kind, block.labels, block.start_line):
        if item[0] == key:
            return Source(item[1])
    return value


def _attributes(text: str, kind: str, labels: tuple[str, ...],
                line: int | None) -> tuple[tuple[str, str], ...]:
    """(name, expression) of the attributes of the top-level block `kind labels` at `line`."""
    spans = _spans(text)
    block = spans.get((kind, labels, line)) or spans.get((kind, labels, None))
    if block is None:
        return ()
    return tuple((item.name, _expression(text, item))
                 for item in body_items(text, brace_of(text, block)) if item.kind == "attribute")


@functools.lru_cache(maxsize=8)
def _spans(text: str) -> dict[tuple[str, tuple[str, ...], int | None], Item]:
    """A file's top-level blocks by (kind, labels, first line) and by (kind, labels, None)."""
    out: dict[tuple[str, tuple[str, ...], int | None], Item] = {}
    line, offset = 1, 0
    for block in top_level_blocks(text):
        line, offset = line + text.count("\n", offset, block.start), block.start
        out[(block.name, block.labels, line)] = block
        out.setdefault((block.name, block.labels, None), block)
    return out


def tokens_of(value: Any) -> list[Token]:
    """Tokens of a followed value: a Source as code, a string as a template (how .tf.json and
    the parser give them), the strings of a literal list or map."""
    if isinstance(value, Source):
        return tokenize(value.text)
    if isinstance(value, str):
        return tokenize(value, template=True)
    return [token for text in _strings(value) for token in tokenize(text, template=True)]


def literal(value: Any) -> str | None:
    """The text of a literal string value (`"…"` or a heredoc, no interpolation), else None."""
    tokens = tokens_of(value) if isinstance(value, Source | str) else []
    if isinstance(value, str) and not any(t.kind == "punct" for t in tokens):
        return "".join(t.text for t in tokens)
    if [t.kind for t in tokens] in (["open", "close"], ["open", "text", "close"]):
        return tokens[1].text if len(tokens) == 3 else ""
    return None


def _expression(text: str, item: Item) -> str:
    return text[item.start:item.end].split("=", 1)[1].strip()
