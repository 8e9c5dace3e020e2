"""Stage screen: refuse, before anything runs it, Terraform that could act outside its sandbox.

`unsafe` with one diagnostic per construct (file and line) when the screen policy refuses
something; the verifier then runs no later stage. The policy is `Settings.screen_policy` or the
packaged one, with `ctx.options.screen_policy` overrides (see verify/screen/policy.py).
"""

from __future__ import annotations

from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.verify.context import StageContext
from iacforge.verify.screen.policy import ScreenPolicy
from iacforge.verify.screen.rules import screen

ID = "screen"
SENTENCE = "Ensure the configuration holds nothing that could act outside its sandbox."
NEEDS: tuple[str, ...] = ("parse",)


def run(ctx: StageContext) -> StageResult:
    if ctx.model is None:
        return StageResult(ID, "skipped", (Diagnostic("info", "no parsed model"),))
    policy = ScreenPolicy.load(ctx.settings.screen_policy, ctx.options.screen_policy)
    findings = screen(ctx.model, policy)
    return StageResult(ID, "unsafe" if findings else "pass", tuple(findings),
                       metrics={"findings": len(findings)})
