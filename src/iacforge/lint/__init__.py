"""Built-in lint rules, after tflint's core `terraform` ruleset, one module per rule.

Each rule module has `ID` (tflint's rule name), `SENTENCE` and
`check(model: TerraformModel) -> list[Diagnostic]`. The registry is this explicit list.

>>> from iacforge.hcl.parse import parse_files
>>> model = parse_files({"main.tf": 'variable "x" {}\\n'}).model
>>> sorted(d.rule_id for d in lint(model))  # doctest: +NORMALIZE_WHITESPACE
['terraform_documented_variables', 'terraform_typed_variables',
 'terraform_unused_declarations']
"""

from __future__ import annotations

from types import ModuleType

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import TerraformModel
from iacforge.lint import (
    deprecated_interpolation,
    documented_outputs,
    documented_variables,
    required_providers,
    typed_variables,
    unused_declarations,
)

_MODULES: tuple[ModuleType, ...] = (
    deprecated_interpolation,
    documented_outputs,
    documented_variables,
    required_providers,
    typed_variables,
    unused_declarations,
)


def _registry(modules: tuple[ModuleType, ...]) -> dict[str, ModuleType]:
    registry: dict[str, ModuleType] = {}
    for module in modules:
        if module.ID in registry:
            raise ValueError(f"duplicate lint rule id {module.ID!r}")
        registry[module.ID] = module
    return registry


RULES: dict[str, ModuleType] = _registry(_MODULES)


def lint(model: TerraformModel) -> list[Diagnostic]:
    """Every rule's findings, ordered by file, line and rule id."""
    found = [d for rule in RULES.values() for d in rule.check(model)]
    return sorted(found, key=lambda d: (d.file or "", d.line or 0, d.rule_id or ""))
