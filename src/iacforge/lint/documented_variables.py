"""terraform_documented_variables: every variable has a non-empty description."""

from __future__ import annotations

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import TerraformModel
from iacforge.lint._blocks import block_line

ID = "terraform_documented_variables"
SENTENCE = "Ensure every variable has a description."


def check(model: TerraformModel) -> list[Diagnostic]:
    return [
        Diagnostic("warning", f"`{b.labels[0]}` variable has no description", file=b.file,
                   line=block_line(model, b), address=b.address, rule_id=ID)
        for b in model.of_kind("variable")
        if not b.attr("description")
    ]
