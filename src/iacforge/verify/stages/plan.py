"""Stage plan (FV-ii): `terraform plan` succeeds offline against the AWS emulator.

Data sources are read at plan time, so the plan runs with every AWS endpoint pointed at the
verifier's own loopback emulator, with fake credentials, and nothing of the host's. Each run
plans in an emulated account of its own, so that what a plan-time read finds is never another
candidate's.
"""

from __future__ import annotations

import json

from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.verify.context import StageContext
from iacforge.verify.terraform.diagnostics import fallback, from_json_stream
from iacforge.verify.terraform.emulator import aws_env, new_account_id

ID = "plan"
SENTENCE = "Ensure `terraform plan` succeeds (FV-ii, deployability)."
NEEDS: tuple[str, ...] = ("validate",)
RULE = "terraform/plan"
#: Messages that mean the emulator, not the candidate, failed.
_EMULATOR_TROUBLE = ("connection refused", "not yet implemented", "notimplemented",
                     "the requested url was not found on the server")


def run(ctx: StageContext) -> StageResult:
    assert ctx.terraform is not None and ctx.workdir is not None
    if ctx.aws_endpoint is None:
        return StageResult(ID, "error", (Diagnostic(
            "error", "no AWS emulator", "plan needs the loopback AWS emulator", rule_id=RULE),))
    env = aws_env(ctx.aws_endpoint, ctx.settings.region, new_account_id())
    out = ctx.terraform.run(["plan", "-input=false", "-no-color", "-json", "-lock=false",
                             "-out=tfplan"], ctx.workdir, env=env)
    if out.timed_out:
        return StageResult(ID, "error", (Diagnostic(
            "error", "terraform plan timed out",
            f"no answer within {ctx.settings.timeout:.0f} s", rule_id=RULE),))
    found = from_json_stream(out, rule_id=RULE)
    if out.returncode != 0:
        if not any(d.severity == "error" for d in found):  # a crash, maybe after a warning
            return StageResult(ID, "error", (fallback(out, summary="terraform plan crashed",
                                                      rule_id=RULE), *found))
        trouble = any(t in (d.summary + d.detail).lower() for d in found
                      for t in _EMULATOR_TROUBLE)
        return StageResult(ID, "error" if trouble else "fail", tuple(found))
    shown = ctx.terraform.run(["show", "-json", "tfplan"], ctx.workdir, env=env)
    try:
        ctx.plan = json.loads(shown.stdout)
    except ValueError:
        return StageResult(ID, "error", (fallback(shown, summary="terraform show -json failed",
                                                  rule_id=RULE),))
    changes = ctx.plan.get("resource_changes", [])
    return StageResult(ID, "pass", tuple(found), metrics={"resource_changes": len(changes)})
