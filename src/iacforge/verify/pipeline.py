"""Verifier: run the requested stages on a candidate and issue its Certificate."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import replace
from types import ModuleType
from typing import Any

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.errors import ConfigError, SetupError
from iacforge.hcl.normalise import normalise
from iacforge.verify import bounded
from iacforge.verify.context import StageContext
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.options import VerifierOptions
from iacforge.verify.sandbox.bwrap import sandbox_problem
from iacforge.verify.sandbox.workspace import UnsafePath, Workspace
from iacforge.verify.screen.policy import ScreenPolicy
from iacforge.verify.stages import DEFAULT_STAGES, STAGES
from iacforge.verify.terraform.emulator import shared_server
from iacforge.verify.terraform.runner import Terraform

_TERRAFORM_STAGES = frozenset({"validate", "plan"})
_EMULATOR_STAGES = frozenset({"plan"})
#: Every stage after this one judges only what it let through (terraform runs candidates,
#: checkov evaluates their expressions in-process), and nothing runs after an `unsafe`.
_GATE = "screen"
#: Stages that run Python or Rust code on the candidate (or the task's policy) in-process: each
#: runs in a worker bounded in memory and time (verify/bounded.py).
_BOUNDED = frozenset({"parse", "screen", "intent", "security", "lint"})
#: Stages whose bound, when exceeded, says nothing about the candidate: intent evaluates the
#: task's policy, so running out there is the verifier's failure (`error`), not `unsafe`.
_NOT_THE_CANDIDATES = frozenset({"intent"})
#: The bounded stages that read the plan JSON; the others are not sent it.
_READS_PLAN = frozenset({"intent"})


def resolve_stages(names: Iterable[str] | None, *, with_intent: bool) -> tuple[str, ...]:
    """The stages to run, in order: the ones asked for plus everything they need.

    A candidate without an intent policy (`with_intent` False) runs no `intent` stage, asked or
    not, but still what an asked intent needs: so one batch can mix candidates with and
    without a policy (see `require_policy` for a batch where none has one).

    >>> resolve_stages(["parse", "intent"], with_intent=False)
    ('extract', 'parse', 'screen', 'validate', 'plan')
    """
    asked = set(names) if names is not None else set(DEFAULT_STAGES)
    unknown = asked - STAGES.keys()
    if unknown:
        raise ConfigError(f"unknown stage(s) {', '.join(sorted(unknown))}; "
                            f"choose from {', '.join(STAGES)}")
    if names is None and not with_intent:
        asked.discard("intent")
    todo = _with_needs(asked)
    if not with_intent:
        todo.discard("intent")
    order = list(STAGES)
    if any(order.index(n) > order.index(_GATE) for n in todo):
        todo = _with_needs(todo | {_GATE})
    return tuple(n for n in STAGES if n in todo)


def require_policy(names: Iterable[str] | None,
                   intents: Iterable[IntentPolicy | None]) -> None:
    """ConfigError when stage `intent` is asked for and not one candidate has a policy."""
    if names is not None and "intent" in names and all(i is None for i in intents):
        raise ConfigError("stage 'intent' needs an intent policy, and no candidate has one")


def emulator_endpoint() -> str:
    """The endpoint of the shared AWS emulator plan runs against (started on first use)."""
    return shared_server().endpoint


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
                    ctx.aws_endpoint = emulator_endpoint()
                results.append(_timed(stage, ctx))
        finally:
            if workspace is not None:
                workspace.close()
        return Certificate(
            content_hash=candidate.content_hash(), stages=tuple(results), plan=ctx.plan,
            rego=ctx.rego, source=candidate.source, files=tuple(sorted(candidate.files)),
            fail_on=self.options.fail_on or (),
        )

    def replace(self, **changes: Any) -> Verifier:
        """A verifier like this one with `settings`, `stages`, `options` or `terraform`
        changed; the bound terraform (and its prepared provider base) is shared unless
        `terraform` is given (None: bind a fresh one where it runs).

        >>> Verifier(stages=["parse"]).replace(stages=["extract"]).stages
        ('extract',)
        """
        fields = {"settings": self.settings, "stages": self.stages, "options": self.options,
                  "terraform": self._terraform}
        unknown = changes.keys() - fields.keys()
        if unknown:
            raise TypeError(f"Verifier.replace: unknown field(s) {', '.join(sorted(unknown))}")
        return type(self)(**{**fields, **changes})

    def _workspace(self, ctx: StageContext) -> Workspace:
        tf = self.terraform
        normalised = normalise(ctx.candidate.files, terraform_version=tf.version,
                               aws_version=tf.aws_version)
        ctx.normalise_notes = normalised.diagnostics
        workspace = Workspace(normalised.files)
        tf.link(workspace.path)
        ctx.terraform, ctx.workdir = tf, workspace.path
        return workspace


def _blocked_by(stage: ModuleType, results: list[StageResult]) -> str | None:
    unsafe = next((r.stage for r in results if r.status == "unsafe"), None)
    if unsafe:
        return unsafe
    done = {r.stage: r for r in results}
    return next((n for n in stage.NEEDS if n in done and not done[n].passed), None)


def _timed(stage: ModuleType, ctx: StageContext) -> StageResult:
    start = time.monotonic()
    try:
        result = _bounded(stage, ctx) if stage.ID in _BOUNDED else stage.run(ctx)
    except SetupError:
        raise  # the machine, not this candidate: every candidate would fail the same way
    except bounded.BoundExceeded as exc:
        result = _exceeded(stage.ID, exc, ctx.settings.timeout)
    except Exception as exc:  # a verifier bug must cost one verdict, never the batch
        detail = str(exc) if isinstance(exc, bounded.StepError) else f"{type(exc).__name__}: {exc}"
        result = StageResult(stage.ID, "error", (Diagnostic(
            "error", f"{stage.ID} could not run", detail, rule_id=f"iacforge/{stage.ID}"),))
    elapsed = time.monotonic() - start
    return StageResult(result.stage, result.status, result.diagnostics, elapsed, result.metrics)


def _bounded(stage: ModuleType, ctx: StageContext) -> StageResult:
    """`stage.run(ctx)` in a bounded worker, with the artefacts it made copied back to `ctx`."""
    sent = dataclasses.replace(ctx, terraform=None,
                               plan=ctx.plan if stage.ID in _READS_PLAN else None)
    result, model, rego = bounded.run(_run_stage, stage.ID, sent, timeout=ctx.settings.timeout)
    ctx.model, ctx.rego = model, rego
    return result


def _run_stage(name: str, ctx: StageContext) -> tuple[StageResult, object, object]:
    """In the worker: run one stage and hand back its result and the artefacts it may set."""
    result = STAGES[name].run(ctx)
    return result, ctx.model, ctx.rego


def _exceeded(name: str, exc: bounded.BoundExceeded, timeout: float) -> StageResult:
    """The result of a stage whose worker hit a bound: `unsafe` when the candidate made it run
    out of memory or stack; `error` when the cause may be the verifier's (time under load, a
    crash, the task's own policy)."""
    by_candidate = exc.kind in ("memory", "depth") and name not in _NOT_THE_CANDIDATES
    budget = {"memory": f"{bounded.MEMORY_BUDGET >> 20} MiB of memory",
              "time": f"{timeout:g} s"}.get(exc.kind, "its bounds")
    return StageResult(name, "unsafe" if by_candidate else "error", (Diagnostic(
        "error", f"{name} exceeded a bound: {exc}", f"the {name} step runs in a worker "
        f"limited to {budget}", rule_id=f"iacforge/bound/{exc.kind}"),))
