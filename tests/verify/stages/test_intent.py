"""The intent stage: both judgements, rule diagnostics, and the non-verdicts (error, skipped)."""

import json
from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.errors import ConfigError
from iacforge.verify.context import StageContext
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.options import VerifierOptions
from iacforge.verify.stages import intent

FIXTURES = Path(__file__).parents[2] / "fixtures" / "intent"
BUCKET_ONLY = "s3_bucket_only.json"
VERSIONED = "s3_bucket_versioned.json"


def context(policy: str | None, plan: str | None, **options) -> StageContext:
    return StageContext(
        candidate=Candidate({"main.tf": 'resource "aws_s3_bucket" "logs" {}'}),
        settings=Settings(),
        intent=IntentPolicy.from_file(FIXTURES / "policies" / policy) if policy else None,
        plan=json.loads((FIXTURES / "plans" / plan).read_text()) if plan else None,
        options=VerifierOptions(**options),
    )


def rule_values(result) -> dict[str, str]:
    """rule id -> severity of every diagnostic that names a rule."""
    return {d.rule_id: d.severity for d in result.diagnostics if d.rule_id}


@pytest.mark.parametrize("policy", ["s3_versioning_v0.rego", "s3_versioning_v1.rego"])
def test_plan_that_meets_the_intent_passes(policy):
    ctx = context(policy, VERSIONED)
    result = intent.run(ctx)
    assert result.stage == "intent"
    assert result.status == "pass"
    assert result.metrics["iac_eval_pass"] is True
    assert result.metrics["strict_pass"] is True
    assert result.metrics["rules_true"] == result.metrics["rules_total"] == 3
    assert set(rule_values(result).values()) == {"info"}
    assert ctx.rego is not None and ctx.rego[result.metrics["top_rule"]] is True


def test_v0_plan_missing_versioning_fails_naming_the_false_rules():
    ctx = context("s3_versioning_v0.rego", BUCKET_ONLY)
    result = intent.run(ctx)
    assert result.status == "fail"
    assert result.metrics == {
        "iac_eval_pass": False,
        "strict_pass": False,
        "rules_true": 1,
        "rules_total": 3,
        "top_rule": "is_configuration_valid",
    }
    assert rule_values(result) == {
        "is_configuration_valid": "error",
        "is_valid_versioning": "error",
        "is_valid_bucket": "info",
    }
    summaries = [d.summary for d in result.diagnostics]
    assert "intent rule is_valid_versioning is false" in summaries
    assert "intent rule is_valid_bucket is true" in summaries
    assert result.diagnostics[-1].severity == "info"  # failures come first
    assert ctx.rego == {
        "is_configuration_valid": False,
        "is_valid_bucket": True,
        "is_valid_versioning": False,
    }


def test_v1_plan_missing_versioning_fails():
    result = intent.run(context("s3_versioning_v1.rego", BUCKET_ONLY))
    assert result.status == "fail"
    assert rule_values(result) == {
        "is_valid": "error",
        "is_valid_versioning": "error",
        "is_valid_bucket": "info",
    }
    assert (result.metrics["rules_true"], result.metrics["rules_total"]) == (1, 3)


@pytest.mark.parametrize(("rule", "status"), [("iac_eval", "fail"), ("strict", "pass")])
def test_top_rule_true_beside_a_false_alternative(rule, status):
    # versioning OR lifecycle: the top rule holds, the unused alternative is false.
    result = intent.run(context("s3_versioning_or_lifecycle_v1.rego", VERSIONED, intent_rule=rule))
    assert result.status == status
    assert result.metrics["iac_eval_pass"] is False
    assert result.metrics["strict_pass"] is True
    assert rule_values(result)["is_valid_lifecycle"] == "error"
    assert (result.metrics["rules_true"], result.metrics["rules_total"]) == (2, 3)


@pytest.mark.parametrize(
    ("rule", "status", "severity"), [("iac_eval", "pass", "warning"), ("strict", "fail", "error")]
)
def test_undefined_top_rule_passes_iac_eval_only(rule, status, severity):
    # No defaults: without versioning every rule is undefined, so nothing in `data` is false.
    ctx = context("s3_versioning_no_defaults_v0.rego", BUCKET_ONLY, intent_rule=rule)
    result = intent.run(ctx)
    assert ctx.rego == {}
    assert result.status == status
    assert result.metrics == {
        "iac_eval_pass": True,
        "strict_pass": False,
        "rules_true": 0,
        "rules_total": 0,
        "top_rule": "is_valid",
    }
    (diagnostic,) = result.diagnostics
    assert (diagnostic.severity, diagnostic.rule_id) == (severity, "is_valid")
    assert diagnostic.summary == "intent rule is_valid is undefined"


def test_no_top_rule_strict_falls_back_to_iac_eval_and_says_so():
    result = intent.run(context("no_top_rule_v1.rego", BUCKET_ONLY, intent_rule="strict"))
    assert result.status == "fail"
    assert result.metrics["top_rule"] is None
    assert result.metrics["strict_pass"] is result.metrics["iac_eval_pass"] is False
    assert rule_values(result) == {"has_bucket": "info", "has_versioning": "error"}
    assert any("falls back to the IaC-Eval rule" in d.summary for d in result.diagnostics)


def test_numeric_zero_fails_iac_eval_like_the_benchmark():
    # IaC-Eval's check is Python's `False in leaves`, and 0 == False.
    result = intent.run(context("s3_bucket_count_v1.rego", BUCKET_ONLY))
    assert result.status == "fail"
    assert (result.metrics["rules_true"], result.metrics["rules_total"]) == (0, 0)
    (zero,) = [d for d in result.diagnostics if d.severity == "error"]
    assert zero.rule_id == "versioned_bucket_count"
    assert "versioned_bucket_count is 0" in zero.summary
    assert intent.run(context("s3_bucket_count_v1.rego", VERSIONED)).status == "pass"


def test_false_inside_a_set_fails_iac_eval_but_is_no_rule():
    metrics, diagnostics = intent.judge({"checks": [True, False], "ok": True}, "ok")
    assert (metrics["iac_eval_pass"], metrics["strict_pass"]) == (False, True)
    assert (metrics["rules_true"], metrics["rules_total"]) == (1, 1)
    assert diagnostics[0].summary.startswith("intent value checks[1] is False")


def test_nested_boolean_rules_count_by_dotted_name():
    metrics, diagnostics = intent.judge({"checks": {"bucket": True, "acl": False}}, None)
    assert (metrics["rules_true"], metrics["rules_total"]) == (1, 2)
    assert {d.rule_id for d in diagnostics if d.rule_id} == {"checks.bucket", "checks.acl"}


def test_policy_syntax_error_is_an_error_with_the_engine_message():
    ctx = context("syntax_error_v1.rego", BUCKET_ONLY)
    result = intent.run(ctx)
    assert result.status == "error"
    assert ctx.rego is None
    (diagnostic,) = result.diagnostics
    assert diagnostic.rule_id == "rego-syntax"
    assert diagnostic.where() == "syntax_error_v1.rego:11"
    assert "expecting `}`" in diagnostic.detail


def test_missing_opa_binary_is_an_error_not_a_verdict(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    result = intent.run(context("s3_versioning_v1.rego", VERSIONED, rego_engine="opa"))
    assert result.status == "error"
    assert result.diagnostics[0].rule_id == "rego-setup"


def test_no_plan_is_skipped_and_says_plan_did_not_succeed():
    result = intent.run(context("s3_versioning_v1.rego", None))
    assert result.status == "skipped"
    assert "plan did not succeed" in result.diagnostics[0].summary
    assert result.metrics == {}


def test_no_intent_is_skipped():
    result = intent.run(context(None, VERSIONED))
    assert result.status == "skipped"
    assert "no intent policy" in result.diagnostics[0].summary


def test_unknown_intent_rule_is_refused_before_any_stage_runs():
    with pytest.raises(ConfigError, match="intent_rule must be one of iac_eval, strict"):
        context("s3_versioning_v1.rego", VERSIONED, intent_rule="majority")
