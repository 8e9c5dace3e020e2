"""terraform_documented_outputs: every output has a non-empty description."""

from __future__ import annotations

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import TerraformModel
from iacforge.lint._blocks import block_line

ID = "terraform_documented_outputs"
SENTENCE = "Ensure every output has a description."


def check(model: TerraformModel) -> list[Diagnostic]:
    return [
        Diagnostic("warning", f"`{b.labels[0]}` output has no description", file=b.file,
                   line=block_line(model, b), address=b.address, rule_id=ID)
        for b in model.of_kind("output")
        if not b.attr("description")
    ]
