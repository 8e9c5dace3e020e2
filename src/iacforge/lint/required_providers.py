"""terraform_required_providers: every provider used has a version constraint.

A provider is used by a `provider` block, or by a resource, data source or ephemeral
resource (through its `provider` argument, else the prefix of its type). The built-in
`terraform` provider needs no constraint. Each provider is reported once, at its first use;
a `version` argument in a `provider` block is reported too, as tflint does.
"""

from __future__ import annotations

from typing import Any

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import Block, TerraformModel
from iacforge.lint._blocks import block_line

ID = "terraform_required_providers"
SENTENCE = "Ensure every provider used has a version constraint in required_providers."

_BUILT_IN = frozenset({"terraform"})


def check(model: TerraformModel) -> list[Diagnostic]:
    versioned = _versioned(model)
    first_use: dict[str, Block] = {}
    for block in sorted(model.blocks, key=lambda b: (b.file, block_line(model, b) or 0)):
        name = _provider_of(block)
        if name and name not in _BUILT_IN:
            first_use.setdefault(name, block)
    missing = [
        _diagnostic(model, block, f'Missing version constraint for provider "{name}" in '
                    "`required_providers`")
        for name, block in first_use.items()
        if name not in versioned
    ]
    legacy = [
        _diagnostic(model, block, "provider version constraint should be specified via "
                    "`required_providers`")
        for block in model.of_kind("provider")
        if "version" in block.body
    ]
    return missing + legacy


def _diagnostic(model: TerraformModel, block: Block, summary: str) -> Diagnostic:
    return Diagnostic("warning", summary, file=block.file, line=block_line(model, block),
                      address=block.address, rule_id=ID)


def _provider_of(block: Block) -> str | None:
    if block.kind == "provider" and block.labels:
        return block.labels[0]
    if block.kind in ("resource", "data", "ephemeral") and block.labels:
        explicit = block.attr("provider")
        if isinstance(explicit, str) and explicit:
            return explicit.removeprefix("${").removesuffix("}").split(".")[0]
        return block.labels[0].split("_", 1)[0]
    return None


def _versioned(model: TerraformModel) -> set[str]:
    """Provider local names that `required_providers` gives a version constraint."""
    names: set[str] = set()
    for block in model.of_kind("terraform"):
        entries = block.body.get("required_providers") or []
        for entry in entries if isinstance(entries, list) else [entries]:
            if isinstance(entry, dict):
                names |= {name for name in entry if _has_version(block, block.attr(name, entry))}
    return names


def _has_version(block: Block, spec: Any) -> bool:
    if isinstance(spec, str):  # the pre-0.13 shorthand: aws = "~> 5.0"
        return bool(spec.strip())
    return isinstance(spec, dict) and bool(block.attr("version", spec))
