"""FV-iii: evaluate the task's Rego intent policy on the plan JSON and judge the result.

How IaC-Eval judges, as its evaluation script does it: it runs `opa eval` with the
`terraform show -json` plan as `input`, the policy as the only module, and the whole `data`
document as the query (adding OPA's v1 flag when a line of the policy says `import rego.v1`).
It then walks the result: into every object value and every array element, collecting each
value that is neither an object nor an array (an array nested directly in an array is
collected whole). The candidate is correct unless a collected value equals Python's `False`,
and since `0 == False` in Python a numeric zero fails it too; we keep that quirk so our pass
rate is theirs. A rule that is undefined (no default, body did not hold) is absent from
`data`, so it cannot fail a candidate. A policy that does not evaluate stops their script,
leaving no verdict to copy: we report `error`. With one module loaded, walking `data` and
walking `data.<package>` meet the same values, so we evaluate only the package.

The strict judgement passes when the policy's top rule (`IntentPolicy.top_rule`) is `true`;
a policy without one falls back to the IaC-Eval judgement, and a diagnostic says so.

`ctx.options` (VerifierOptions) picks `intent_rule`, the judgement that sets the status
("iac_eval", the default, or "strict"), and `rego_engine` ("auto", "regorus" or "opa").
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.errors import SetupError
from iacforge.verify.context import StageContext
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.rego import RegoError, evaluate

ID = "intent"
SENTENCE = "Ensure the plan satisfies the task's Rego intent policy"
NEEDS: tuple[str, ...] = ("plan",)

_RANK = {"error": 0, "warning": 1, "info": 2}


def run(ctx: StageContext) -> StageResult:
    start = time.monotonic()
    rule = ctx.options.intent_rule
    if ctx.intent is None:
        return _skipped("no intent policy was given for this candidate", start)
    if ctx.plan is None:
        return _skipped("plan did not succeed, so there is no plan JSON to check", start)
    try:
        document = evaluate(
            ctx.intent,
            ctx.plan,
            engine=ctx.options.rego_engine,
            timeout=ctx.settings.timeout,
        )
    except (RegoError, SetupError) as exc:
        diagnostic = _evaluation_error(ctx.intent, exc)
        return StageResult(ID, "error", (diagnostic,), time.monotonic() - start)
    ctx.rego = document
    metrics, diagnostics = judge(document, ctx.intent.top_rule, strict=rule == "strict")
    passed = metrics["strict_pass" if rule == "strict" else "iac_eval_pass"]
    return StageResult(
        ID,
        "pass" if passed else "fail",
        diagnostics,
        time.monotonic() - start,
        metrics,
    )


def judge(
    document: dict[str, Any], top_rule: str | None, *, strict: bool = False
) -> tuple[dict[str, Any], tuple[Diagnostic, ...]]:
    """Both judgements of an evaluated package document, as stage metrics and diagnostics.

    `strict` says which judgement sets the status; it only changes how loud the diagnostic
    about an undefined top rule is.
    """
    rules = boolean_rules(document)
    diagnostics = [
        Diagnostic(
            "info" if value else "error",
            f"intent rule {name} is {str(value).lower()}",
            rule_id=name,
        )
        for name, value in rules.items()
    ]
    iac_pass, extra = _iac_eval_verdict(document, rules)
    diagnostics += extra
    if top_rule is None:
        strict_pass = iac_pass
        diagnostics.append(
            Diagnostic(
                "info",
                "the policy has no top rule (is_valid, or one is_*valid* rule no other rule "
                "uses); the strict judgement falls back to the IaC-Eval rule",
            )
        )
    else:
        strict_pass = document.get(top_rule) is True
        if not strict_pass and not isinstance(document.get(top_rule), bool):
            diagnostics.append(_top_rule_not_boolean(document, top_rule, strict))
    metrics = {
        "iac_eval_pass": iac_pass,
        "strict_pass": strict_pass,
        "rules_true": sum(rules.values()),
        "rules_total": len(rules),
        "top_rule": top_rule,
    }
    return metrics, tuple(sorted(diagnostics, key=lambda d: _RANK[d.severity]))


def _iac_eval_verdict(
    document: dict[str, Any], rules: dict[str, bool]
) -> tuple[bool, list[Diagnostic]]:
    """IaC-Eval's verdict, and a diagnostic for each false value that is not a boolean rule."""
    false = [(path, leaf) for path, leaf in iac_eval_leaves(document) if _iac_false(leaf)]
    diagnostics = [
        Diagnostic(
            "error",
            f"intent value {path} is {leaf!r}; IaC-Eval counts it as false",
            rule_id=path.split(".")[0].split("[")[0],
        )
        for path, leaf in false
        if path not in rules
    ]
    return not false, diagnostics


def _top_rule_not_boolean(document: dict[str, Any], name: str, strict: bool) -> Diagnostic:
    severity = "error" if strict else "warning"
    if name not in document:
        return Diagnostic(
            severity,
            f"intent rule {name} is undefined",
            detail="the top rule has no default and its body did not hold on this plan",
            rule_id=name,
        )
    return Diagnostic(
        severity, f"intent rule {name} is not a boolean: {document[name]!r}", rule_id=name
    )


def iac_eval_leaves(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """The values IaC-Eval's walk collects from `node`, each with its path (`a.b[0]`)."""
    if not isinstance(node, dict):
        yield path, node
        return
    for key, value in node.items():
        here = f"{path}.{key}" if path else str(key)
        if isinstance(value, dict):
            yield from iac_eval_leaves(value, here)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                yield from iac_eval_leaves(item, f"{here}[{index}]")
        else:
            yield here, value


def boolean_rules(document: dict[str, Any], prefix: str = "") -> dict[str, bool]:
    """Every boolean value reached through objects only, by dotted name (`is_valid_bucket`)."""
    found: dict[str, bool] = {}
    for key, value in document.items():
        name = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, bool):
            found[name] = value
        elif isinstance(value, dict):
            found.update(boolean_rules(value, name))
    return found


def _iac_false(leaf: Any) -> bool:
    """Python's `leaf == False` for JSON values: false, 0 and 0.0."""
    return isinstance(leaf, int | float) and leaf == 0


def _evaluation_error(policy: IntentPolicy, exc: RegoError | SetupError) -> Diagnostic:
    if isinstance(exc, SetupError):
        return Diagnostic(
            "error", "intent policy could not be evaluated", detail=str(exc), rule_id="rego-setup"
        )
    return Diagnostic(
        "error",
        f"intent policy could not be evaluated ({exc.kind} error from {exc.engine})",
        detail=exc.message,
        file=policy.name,
        line=exc.line,
        rule_id=f"rego-{exc.kind}",
    )


def _skipped(reason: str, start: float) -> StageResult:
    return StageResult(ID, "skipped", (Diagnostic("info", reason),), time.monotonic() - start)
