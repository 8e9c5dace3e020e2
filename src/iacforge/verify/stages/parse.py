"""Stage parse: every file is syntactically valid HCL (or JSON), checked in-process.

`unsafe` when a file is refused for its size or nesting depth (see hcl/parse.py): a bound,
not a verdict on its syntax.
"""

from __future__ import annotations

from iacforge.diagnostics import StageResult
from iacforge.hcl.parse import parse_files
from iacforge.verify.context import StageContext

ID = "parse"
SENTENCE = "Ensure every file parses as HCL or Terraform JSON."
NEEDS: tuple[str, ...] = ("extract",)


def run(ctx: StageContext) -> StageResult:
    outcome = parse_files(ctx.candidate.files)
    ctx.model = outcome.model
    status = "pass" if outcome.model is not None else "unsafe" if outcome.exceeded else "fail"
    return StageResult(ID, status, outcome.diagnostics,
                       metrics={"blocks": len(outcome.model.blocks) if outcome.model else 0})
