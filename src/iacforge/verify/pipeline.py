"""Verifier: run the requested stages on a candidate and issue its Certificate."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from types import ModuleType

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.errors import ConfigError, SetupError
from iacforge.hcl.normalise import normalise
from iacforge.verify.context import StageContext
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.options import VerifierOptions
from iacforge.verify.sandbox import sandbox_problem
from iacforge.verify.screen_policy import ScreenPolicy
from iacforge.verify.stages import DEFAULT_STAGES, STAGES
from iacforge.verify.terraform import Terraform
from iacforge.verify.workspace import UnsafePath, Workspace

_TERRAFORM_STAGES = frozenset({"validate", "plan"})
_EMULATOR_STAGES = frozenset({"plan"})
#: Every stage after this one judges only what it let through (terraform runs candidates,
#: checkov evaluates their expressions in-process), and nothing runs after an `unsafe`.
_GATE = "screen"


def resolve_stages(names: Iterable[str] | None, *, with_intent: bool) -> tuple[str, ...]:
    """The stages to run, in order: the ones asked for plus everything they need."""
    asked = set(names) if names is not None else set(DEFAULT_STAGES)
    unknown = asked - STAGES.keys()
    if unknown:
        raise ConfigError(f"unknown stage(s) {', '.join(sorted(unknown))}; "
                            f"choose from {', '.join(STAGES)}")
    if names is None and not with_intent:
        asked.discard("intent")
    if "intent" in asked and not with_intent:
        raise ConfigError("stage 'intent' needs an intent policy (--intent policy.rego)")
    todo = _with_needs(asked)
    order = list(STAGES)
    if any(order.index(n) > order.index(_GATE) for n in todo):
        todo = _with_needs(todo | {_GATE})
    return tuple(n for n in STAGES if n in todo)


def _with_needs(names: Iterable[str]) -> set[str]:
    todo: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name not in todo:
            todo.add(name)
            stack.extend(STAGES[name].NEEDS)
    return todo


class Verifier:
    """The staged verifier.

    >>> v = Verifier(stages=["extract", "parse"], options=VerifierOptions(fail_on=["lint"]))
    >>> v.verify(Candidate({"main.tf": "variable \\"x\\" {}\\n"})).status
    'pass'

    Unknown stages, option values and screen policy keys are refused here (ConfigError or
    SetupError), not reported as an `error` stage of every candidate. `options.fail_on` None
    takes `settings.fail_on`.
    """

    def __init__(self, settings: Settings | None = None, stages: Sequence[str] | None = None,
                 *, options: VerifierOptions | None = None,
                 terraform: Terraform | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.stages = None if stages is None else tuple(stages)
        resolve_stages(self.stages, with_intent=True)
        options = options or VerifierOptions()
        if options.fail_on is None:
            options = replace(options, fail_on=self.settings.fail_on)
        self.options = options
        ScreenPolicy.load(self.settings.screen_policy, options.screen_policy)
        self._terraform = terraform

    @property
    def terraform(self) -> Terraform:
        if self._terraform is None:
            self._terraform = Terraform(self.settings)
        return self._terraform

    def verify(self, candidate: Candidate, intent: IntentPolicy | None = None) -> Certificate:
        """Verify one candidate against an optional intent policy."""
        names = resolve_stages(self.stages, with_intent=intent is not None)
        ctx = StageContext(candidate, self.settings, intent=intent, options=self.options)
        results: list[StageResult] = []
        workspace: Workspace | None = None
        try:
            for name in names:
                stage = STAGES[name]
                blocked = _blocked_by(stage, results)
                if blocked:
                    results.append(StageResult(name, "skipped", (Diagnostic(
                        "info", f"skipped: {blocked} did not pass", rule_id=f"iacforge/{name}"),)))
                    continue
                refusal = sandbox_problem(self.settings) if name in _TERRAFORM_STAGES else None
                if refusal:
                    results.append(StageResult(name, "error", (Diagnostic(
                        "error", "terraform was not run: no sandbox", refusal,
                        rule_id="iacforge/sandbox"),)))
                    continue
                if name in _TERRAFORM_STAGES and workspace is None:
                    try:
                        workspace = self._workspace(ctx)
                    except UnsafePath as exc:
                        results.append(StageResult(name, "unsafe", (Diagnostic(
                            "error", "unsafe file name", str(exc), rule_id="iacforge/path"),)))
                        continue
                if name in _EMULATOR_STAGES and ctx.aws_endpoint is None:
                    ctx.aws_endpoint = self._emulator_endpoint()
                results.append(_timed(stage, ctx))
        finally:
            if workspace is not None:
                workspace.close()
        return Certificate(
            content_hash=candidate.content_hash(), stages=tuple(results), plan=ctx.plan,
            rego=ctx.rego, source=candidate.source, files=tuple(sorted(candidate.files)),
            fail_on=self.options.fail_on or (),
        )

    def verify_many(self, candidates: Sequence[Candidate],
                    intent: IntentPolicy | None = None) -> list[Certificate]:
        """Verify several candidates against the same intent, in order, in batched runs.

        Each certificate equals what `verify` gives for that candidate (see verify/batch.py).
        """
        return self.verify_each(candidates, [intent] * len(candidates))

    def verify_each(self, candidates: Sequence[Candidate],
                    intents: Sequence[IntentPolicy | None]) -> list[Certificate]:
        """Verify several candidates, each against its own intent, in order, in batched runs."""
        from iacforge.verify.batch import verify_batched

        return verify_batched(self, candidates, intents)

    def _workspace(self, ctx: StageContext) -> Workspace:
        tf = self.terraform
        normalised = normalise(ctx.candidate.files, terraform_version=tf.version,
                               aws_version=tf.aws_version)
        ctx.normalise_notes = normalised.diagnostics
        workspace = Workspace(normalised.files)
        tf.link(workspace.path)
        ctx.terraform, ctx.workdir = tf, workspace.path
        return workspace

    def _emulator_endpoint(self) -> str:
        from iacforge.verify.emulator import shared_server

        return shared_server().endpoint


def _blocked_by(stage: ModuleType, results: list[StageResult]) -> str | None:
    unsafe = next((r.stage for r in results if r.status == "unsafe"), None)
    if unsafe:
        return unsafe
    done = {r.stage: r for r in results}
    return next((n for n in stage.NEEDS if n in done and not done[n].passed), None)


def _timed(stage: ModuleType, ctx: StageContext) -> StageResult:
    start = time.monotonic()
    try:
        result = stage.run(ctx)
    except SetupError:
        raise  # the machine, not this candidate: every candidate would fail the same way
    except Exception as exc:  # a verifier bug must cost one verdict, never the batch
        result = StageResult(stage.ID, "error", (Diagnostic(
            "error", f"{stage.ID} could not run", f"{type(exc).__name__}: {exc}",
            rule_id=f"iacforge/{stage.ID}"),))
    elapsed = time.monotonic() - start
    return StageResult(result.stage, result.status, result.diagnostics, elapsed, result.metrics)
