"""terraform_unused_declarations: variables, locals and data sources that nothing references.

References are read from the parsed expressions (`${var.x}`, and map keys such as `(var.k)`),
so comments, plain strings and the declaring block itself never count: a variable used only
in its own `validation` block is still unused.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import Block, TerraformModel
from iacforge.lint._blocks import block_line, source_block

ID = "terraform_unused_declarations"
SENTENCE = "Ensure every variable, local value and data source is referenced."

_NAME = r"[A-Za-z_][A-Za-z0-9_-]*"
_REFERENCE = re.compile(rf"(?<![\w.])(?:(var|local)\.({_NAME})|data\.({_NAME})\.({_NAME}))")


def check(model: TerraformModel) -> list[Diagnostic]:
    refs = [(block, _references(block.body)) for block in model.blocks]

    def used(address: str, owner: Block | None = None) -> bool:
        return any(address in found for block, found in refs if block is not owner)

    out: list[Diagnostic] = []
    for block in model.blocks:
        if block.kind in ("variable", "data") and not used(block.address, block):
            header = " ".join([block.kind, *(f'"{label}"' for label in block.labels)])
            out.append(Diagnostic(
                "warning", f"{header} is declared but not used", file=block.file,
                line=block_line(model, block), address=block.address, rule_id=ID))
        elif block.kind == "locals":
            source = source_block(model, block)
            lines = source.attributes if source else {}
            out += [
                Diagnostic("warning", f"local.{name} is declared but not used", file=block.file,
                           line=lines.get(name), address=f"local.{name}", rule_id=ID)
                for name in block.body
                if not used(f"local.{name}")
            ]
    return out


def _references(value: Any) -> set[str]:
    found: set[str] = set()
    for text in _strings(value):
        for kind, name, data_type, data_name in _REFERENCE.findall(text):
            found.add(f"{kind}.{name}" if kind else f"data.{data_type}.{data_name}")
    return found


def _strings(value: Any) -> Iterator[str]:
    """The expression strings in a parsed body: values holding `${`, and every map key."""
    if isinstance(value, str):
        if "${" in value:
            yield value
    elif isinstance(value, dict):
        for key, inner in value.items():
            yield str(key)
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)
