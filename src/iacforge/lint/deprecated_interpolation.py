"""terraform_deprecated_interpolation: no `"${expr}"` where `expr` alone would do.

The parser writes `"${var.x}"` and `var.x` alike, so this rule reads the raw text of each
`.tf` file (in `.tf.json`, `"${...}"` is the only way to write an expression).
"""

from __future__ import annotations

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import TerraformModel
from iacforge.hcl.outline import outline

ID = "terraform_deprecated_interpolation"
SENTENCE = "Ensure no expression is wrapped in an interpolation-only string."


def check(model: TerraformModel) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for name in sorted(model.files):
        if not name.endswith(".tf"):
            continue
        source = outline(model.files[name])
        for line, column in source.interpolation_only:
            out.append(Diagnostic(
                "warning", "Interpolation-only expressions are deprecated in Terraform v0.12.14",
                'write the expression without the surrounding "${ }"', file=name, line=line,
                column=column, address=source.address_at(line), rule_id=ID))
    return out

