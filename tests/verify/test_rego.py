"""Rego evaluation with real regorus (and real opa, when one is on PATH)."""

import json
import shutil
from pathlib import Path

import pytest

from iacforge.errors import SetupError
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.rego import RegoError, evaluate

FIXTURES = Path(__file__).parents[1] / "fixtures" / "intent"


def policy(name: str) -> IntentPolicy:
    return IntentPolicy.from_file(FIXTURES / "policies" / name)


def plan(name: str) -> dict:
    return json.loads((FIXTURES / "plans" / name).read_text())


def test_v0_policy_evaluates_to_its_package_document():
    document = evaluate(policy("s3_versioning_v0.rego"), plan("s3_bucket_only.json"))
    assert document == {
        "is_configuration_valid": False,
        "is_valid_bucket": True,
        "is_valid_versioning": False,
    }


def test_v1_policy_with_contains_returns_sets_as_lists():
    document = evaluate(policy("s3_versioning_v1.rego"), plan("s3_bucket_versioned.json"))
    assert document == {
        "bucket_names": ["iacforge-logs"],
        "is_valid": True,
        "is_valid_bucket": True,
        "is_valid_versioning": True,
    }


def test_import_rego_v1_switches_to_v1_syntax():
    # IaC-Eval evaluates a policy as v1 only when it imports rego.v1; so do we.
    rules = "default ok = false\nok { input.a }\n"  # v0: no `if` before the body
    assert evaluate(IntentPolicy("package p\n" + rules), {"a": True}) == {"ok": True}
    with pytest.raises(RegoError) as caught:
        evaluate(IntentPolicy("package p\nimport rego.v1\n" + rules), {"a": True})
    assert caught.value.kind == "syntax"
    assert "`if` keyword is required" in caught.value.message


def test_syntax_error_carries_engine_message_and_line():
    with pytest.raises(RegoError) as caught:
        evaluate(policy("syntax_error_v1.rego"), plan("s3_bucket_only.json"))
    error = caught.value
    assert (error.engine, error.kind, error.line) == ("regorus", "syntax", 11)
    assert "expecting `}`" in error.message
    assert "Stack backtrace" not in error.message


def test_runtime_error_is_not_a_verdict():
    conflicting = IntentPolicy(
        "package p\nimport rego.v1\nsize := 1 if input.a\nsize := 2 if input.a\n"
    )
    assert evaluate(conflicting, {"a": False}) == {}
    with pytest.raises(RegoError) as caught:
        evaluate(conflicting, {"a": True})
    assert (caught.value.kind, caught.value.line) == ("runtime", 4)
    assert "conflicts" in caught.value.message


def test_cached_policy_sees_each_input_afresh():
    p = policy("s3_versioning_v1.rego")
    assert evaluate(p, plan("s3_bucket_versioned.json"))["is_valid"] is True
    assert evaluate(p, plan("s3_bucket_only.json"))["is_valid"] is False
    assert evaluate(p, {})["is_valid"] is False


def test_empty_package_is_an_empty_document():
    assert evaluate(IntentPolicy("package p.q\n"), {}) == {}


def test_policy_with_lines_longer_than_regorus_default_limit_loads():
    long_string = "x" * 5000
    text = f'package p\nimport rego.v1\nok if input.s == "{long_string}"\n'
    assert evaluate(IntentPolicy(text), {"s": long_string}) == {"ok": True}


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match="unknown Rego engine 'rust'"):
        evaluate(IntentPolicy("package p\n"), {}, engine="rust")  # type: ignore[arg-type]


def test_opa_engine_without_binary_is_a_setup_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SetupError, match="no `opa` binary is on PATH"):
        evaluate(IntentPolicy("package p\n"), {}, engine="opa")


@pytest.mark.skipif(shutil.which("opa") is None, reason="no opa binary on PATH")
@pytest.mark.parametrize(
    "name",
    ["s3_versioning_v0.rego", "s3_versioning_v1.rego", "s3_versioning_no_defaults_v0.rego"],
)
def test_opa_agrees_with_regorus_skipped_without_opa(name):
    for plan_name in ("s3_bucket_only.json", "s3_bucket_versioned.json"):
        document = plan(plan_name)
        assert evaluate(policy(name), document, engine="opa") == evaluate(policy(name), document)


@pytest.mark.skipif(shutil.which("opa") is None, reason="no opa binary on PATH")
def test_opa_syntax_error_skipped_without_opa():
    with pytest.raises(RegoError) as caught:
        evaluate(policy("syntax_error_v1.rego"), {}, engine="opa")
    assert (caught.value.engine, caught.value.kind) == ("opa", "syntax")
