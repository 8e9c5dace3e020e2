"""Stage validate (FV-i): `terraform validate -json` accepts the configuration."""

from __future__ import annotations

import json

from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.verify.context import StageContext
from iacforge.verify.terraform.diagnostics import fallback, from_terraform
from iacforge.verify.terraform.offline import offline_gaps

ID = "validate"
SENTENCE = "Ensure `terraform validate` accepts the configuration (FV-i, compilability)."
NEEDS: tuple[str, ...] = ("parse", "screen")
RULE = "terraform/validate"


def run(ctx: StageContext) -> StageResult:
    assert ctx.model is not None and ctx.terraform is not None and ctx.workdir is not None
    notes = ctx.normalise_notes
    gaps = offline_gaps(ctx.model)
    if gaps:
        return StageResult(ID, "error", (*gaps, *notes))
    if ctx.model.of_kind("module"):
        got = ctx.terraform.run(["get", "-no-color"], ctx.workdir)
        if got.returncode != 0:
            # a module it could not install prints "Error: …"; silence is terraform's own crash
            judged = not got.timed_out and "Error:" in got.stdout + got.stderr
            summary = "terraform get failed" if judged else "terraform get crashed"
            return StageResult(ID, "fail" if judged else "error",
                               (fallback(got, summary=summary, rule_id=RULE), *notes))
    out = ctx.terraform.run(["validate", "-json", "-no-color"], ctx.workdir)
    if out.timed_out:
        return StageResult(ID, "error", (Diagnostic(
            "error", "terraform validate timed out",
            f"no answer within {ctx.settings.timeout:.0f} s", rule_id=RULE), *notes))
    try:
        report = json.loads(out.stdout)
    except ValueError:
        return StageResult(ID, "error", (fallback(out, summary="terraform validate crashed",
                                                  rule_id=RULE), *notes))
    found = tuple(from_terraform(d, rule_id=RULE) for d in report.get("diagnostics", []))
    status = "pass" if report.get("valid") else "fail"
    if (out.returncode != 0) != (status == "fail") or (
            status == "fail" and not any(d.severity == "error" for d in found)):
        # an exit code that contradicts the report, or a failure with no error to show
        return StageResult(ID, "error", (fallback(out, summary="terraform validate crashed",
                                                  rule_id=RULE), *found, *notes))
    return StageResult(ID, status, (*found, *notes),
                       metrics={"errors": report.get("error_count", 0),
                                "warnings": report.get("warning_count", 0)})
