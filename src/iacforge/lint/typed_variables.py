"""terraform_typed_variables: every variable declares a type."""

from __future__ import annotations

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import TerraformModel
from iacforge.lint._blocks import block_line

ID = "terraform_typed_variables"
SENTENCE = "Ensure every variable declares a type."


def check(model: TerraformModel) -> list[Diagnostic]:
    return [
        Diagnostic("warning", f"`{b.labels[0]}` variable has no type", file=b.file,
                   line=block_line(model, b), address=b.address, rule_id=ID)
        for b in model.of_kind("variable")
        if b.body.get("type") is None
    ]
