"""Stage extract: the input holds Terraform files we can read."""

from __future__ import annotations

from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.verify.context import StageContext

ID = "extract"
SENTENCE = "Ensure the input holds readable Terraform files (.tf / .tf.json)."
NEEDS: tuple[str, ...] = ()


def run(ctx: StageContext) -> StageResult:
    problems = [Diagnostic("error", p, rule_id="iacforge/extract") for p in ctx.candidate.problems]
    if not ctx.candidate.files and not problems:
        problems.append(Diagnostic("error", "no Terraform files", rule_id="iacforge/extract"))
    return StageResult(ID, "fail" if problems else "pass", tuple(problems),
                       metrics={"files": len(ctx.candidate.files)})
