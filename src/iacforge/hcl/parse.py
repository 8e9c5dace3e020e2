"""Parse Terraform files into a TerraformModel, in-process, with line and column on errors.

The `hcl2` module in our environment is checkov's fork (bc-python-hcl2), which checkov
installs under the same module name as python-hcl2. We deliberately parse with that fork
rather than adding python-hcl2 beside it: one `hcl2` per environment, and the fork records
`__start_line__`/`__end_line__` for every block, which is what we need. `.tf.json` files are
read with `json`.

Two bounds, checked cheaply around the work, keep a hostile file from costing unbounded time
or stack here and in every later walk over the model: at most `MAX_BYTES` of files are parsed,
and a document nested deeper than `MAX_DEPTH` (or too deep for the parser's recursion) is
refused. Both give a diagnostic whose rule id starts with `iacforge/bound/`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import hcl2
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import LABELS, Block, TerraformModel

_META = ("__start_line__", "__end_line__")
#: Most bytes of Terraform parsed for one candidate (lark takes ~15 s and ~150 MB per MB).
MAX_BYTES = 4 << 20
#: Deepest nesting of blocks, objects and lists a parsed document may have (hcl2 itself
#: stops near 230 levels of brackets; Terraform code rarely nests 10).
MAX_DEPTH = 256
BOUND = "iacforge/bound/"


@dataclass(frozen=True)
class ParseOutcome:
    model: TerraformModel | None
    diagnostics: tuple[Diagnostic, ...]

    @property
    def exceeded(self) -> bool:
        """A file was refused for its size or depth, not for its syntax."""
        return any((d.rule_id or "").startswith(BOUND) for d in self.diagnostics)


def parse_files(files: dict[str, str]) -> ParseOutcome:
    """Parse every `.tf` / `.tf.json` file; the model is None when any file fails."""
    size = sum(len(text.encode("utf-8", "surrogatepass")) for text in files.values())
    if size > MAX_BYTES:
        return ParseOutcome(None, (Diagnostic(
            "error", f"{size} bytes of Terraform (at most {MAX_BYTES} are parsed)",
            rule_id=BOUND + "size"),))
    blocks: list[Block] = []
    problems: list[Diagnostic] = []
    for name in sorted(files):
        try:
            blocks += _parse_one(name, files[name])
        except _FileError as exc:
            problems.append(exc.diagnostic)
    if problems:
        return ParseOutcome(None, tuple(problems))
    return ParseOutcome(TerraformModel(dict(files), tuple(blocks)), ())


class _FileError(Exception):
    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.summary)
        self.diagnostic = diagnostic


def _parse_one(name: str, text: str) -> list[Block]:
    try:
        doc = _document(name, text)
        too_deep = _depth(doc) > MAX_DEPTH
    except RecursionError:
        too_deep = True
    if too_deep:
        raise _FileError(Diagnostic("error", f"nested more than {MAX_DEPTH} levels deep",
                                    "refused before anything else walks it", name,
                                    rule_id=BOUND + "depth"))
    if name.endswith(".tf.json"):
        return _blocks(name, {k: v if isinstance(v, list) else [v] for k, v in doc.items()})
    return _blocks(name, doc)


def _document(name: str, text: str) -> dict[str, Any]:
    if name.endswith(".tf.json"):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _FileError(
                Diagnostic("error", "Invalid JSON", exc.msg, name, exc.lineno, exc.colno)
            ) from None
        if not isinstance(doc, dict):
            raise _FileError(Diagnostic("error", "Invalid JSON configuration",
                                        "the top level of a .tf.json file must be an object", name))
        return doc
    try:
        # terraform reads CRLF line ends; the parser's grammar knows only LF (a CRLF heredoc
        # would fail at its `<<`). Lines keep their numbers.
        return hcl2.loads(text.replace("\r\n", "\n") + "\n")
    except UnexpectedInput as exc:
        raise _FileError(_syntax_diagnostic(name, exc)) from None
    except (RecursionError, MemoryError):
        raise  # a bound, not a syntax error: the caller decides
    except Exception as exc:  # the parser raises bare errors on some inputs
        raise _FileError(Diagnostic("error", "Unparseable HCL", f"{type(exc).__name__}: {exc}",
                                    name)) from None


def _depth(doc: Any) -> int:
    """How deeply dicts and lists nest in `doc`, found without recursion."""
    deepest, stack = 0, [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        children = node.values() if isinstance(node, dict) else node
        stack += [(c, depth + 1) for c in children if isinstance(c, dict | list)]
    return deepest


def _syntax_diagnostic(name: str, exc: UnexpectedInput) -> Diagnostic:
    line = getattr(exc, "line", None)
    column = getattr(exc, "column", None)
    if isinstance(exc, UnexpectedEOF):
        summary = "Unexpected end of file (unbalanced braces or brackets?)"
    elif isinstance(exc, UnexpectedCharacters):
        summary = f"Unexpected character {exc.char!r}"
    else:
        token = getattr(exc, "token", None)
        summary = f"Unexpected token {str(token)!r}" if token is not None else "Syntax error"
        if token is not None and getattr(token, "type", "") == "$END":
            summary = "Unexpected end of file (unbalanced braces or brackets?)"
    expected = sorted(getattr(exc, "expected", None) or getattr(exc, "allowed", None) or ())
    detail = ("expected one of: " + ", ".join(expected[:8])) if expected else ""
    return Diagnostic("error", summary, detail, name,
                      line if isinstance(line, int) and line > 0 else None,
                      column if isinstance(column, int) and column > 0 else None)


def _blocks(name: str, doc: dict[str, Any]) -> list[Block]:
    out: list[Block] = []
    for kind, entries in doc.items():
        if kind in _META:
            continue
        depth = LABELS.get(kind, 0)
        for entry in entries if isinstance(entries, list) else [entries]:
            out += _unfold(name, kind, entry, depth, ())
    return out


def _unfold(name: str, kind: str, body: Any, depth: int, labels: tuple[str, ...]) -> list[Block]:
    if depth == 0 or not isinstance(body, dict):
        body = body if isinstance(body, dict) else {"value": body}
        start, end = body.get("__start_line__"), body.get("__end_line__")
        clean = {k: v for k, v in body.items() if k not in _META}
        return [Block(kind, labels, clean, name, start, end)]
    out: list[Block] = []
    for label, inner in body.items():
        if label in _META:
            continue
        for item in inner if isinstance(inner, list) else [inner]:
            out += _unfold(name, kind, item, depth - 1, (*labels, label))
    return out
