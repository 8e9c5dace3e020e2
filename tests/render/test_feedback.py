from __future__ import annotations

import re
from dataclasses import replace

import pytest

from iacforge.certificate import Certificate
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.render.feedback import BUDGET, false_rules, render_feedback, templates


def test_first_failing_stage_with_errors_and_locations(validate_fail) -> None:
    text = render_feedback(validate_fail)
    first, *rest = text.splitlines()
    assert "validate" in first and "failed" in first
    assert rest[0].startswith("- main.tf:3:5: Unsupported argument:")
    assert 'Did you mean "acl"?' in rest[0]  # detail joined onto one line
    assert "- variables.tf: Missing required argument" in rest
    assert "Deprecated attribute" not in text  # warnings of a failing stage are not errors


def test_false_intent_rules_are_named(intent_fail) -> None:
    text = render_feedback(intent_fail)
    assert text.splitlines()[0].startswith("The intent stage failed.")
    line = next(ln for ln in text.splitlines() if ln.startswith("Intent rules that are false"))
    assert line.endswith("versioning_enabled, checks.encrypted")
    assert "CKV_AWS_18" not in text  # advisories wait until the gating stages pass


def test_advisory_findings_are_left_out_when_they_do_not_gate(security_fail) -> None:
    assert render_feedback(security_fail) == templates()["all_passed"]
    only_security = render_feedback(replace(security_fail, fail_on=("security",)))
    assert "[CKV_AWS_18]" in only_security and "TFL" not in only_security


def test_a_correctness_stage_is_named_before_a_gating_advisory_one(security_fail) -> None:
    apply = StageResult("apply", "fail", (Diagnostic("error", "apply went wrong"),))
    cert = replace(security_fail, stages=(*security_fail.stages, apply), fail_on=("security",))
    text = render_feedback(cert)
    assert "apply went wrong" in text.splitlines()[1] and "CKV_AWS" not in text


def test_advisories_follow_only_when_gating_stages_pass(security_fail) -> None:
    text = render_feedback(replace(security_fail, fail_on=("security", "lint")))
    assert "[CKV_AWS_18]" in text and "[CKV_AWS_21]" in text
    listed = re.findall(r"\[(TFL\d)\]", text)
    assert listed == ["TFL1", "TFL2", "TFL3", "TFL4", "TFL5"]
    assert text.index("CKV_AWS_21") < text.index(templates()["advisories"])


def test_fully_passing_certificate_is_one_line(all_pass) -> None:
    assert render_feedback(all_pass) == templates()["all_passed"]
    assert "\n" not in render_feedback(all_pass)


def test_verifier_error_is_not_blamed_on_the_code() -> None:
    cert = Certificate("h", (StageResult("parse", "pass"), StageResult("plan", "error")))
    assert "verifier error" in render_feedback(cert)


def test_many_diagnostics_stay_within_budget_most_important_first() -> None:
    diags = tuple(
        Diagnostic("error", f"Problem {n:03d}", "why " * 40, file="main.tf", line=n)
        for n in range(1, 101)
    )
    rego = {f"rule_{n}": False for n in range(50)}
    cert = Certificate("h", (StageResult("intent", "fail", diags),), rego=rego)
    text = render_feedback(cert)
    assert len(text) <= BUDGET
    assert "- main.tf:1: Problem 001" in text
    assert "Problem 100" not in text
    shown = len(re.findall(r"Problem \d{3}", text))
    assert f"- ... {100 - shown} more not shown." in text
    assert "Intent rules that are false: rule_0" in text  # kept despite the long list


@pytest.mark.parametrize("budget", [300, 800])
def test_smaller_budgets_hold(validate_fail, budget: int) -> None:
    assert len(render_feedback(validate_fail, budget=budget)) <= budget


def test_deterministic_and_plain(intent_fail, security_fail) -> None:
    for cert in (intent_fail, security_fail):
        assert render_feedback(cert) == render_feedback(cert)
        assert "\x1b" not in render_feedback(cert)


def test_false_rules_walks_nested_documents() -> None:
    assert false_rules(None) == []
    assert false_rules({"a": {"b": [True, False]}, "c": 0, "d": False}) == ["a.b[1]", "d"]


def test_control_characters_from_a_candidate_are_escaped(escape_codes) -> None:
    text = render_feedback(escape_codes)
    assert not set(text) & {"\x1b", "\x07", "\r", "\u202e"}
    shown = r"\x1b[2J\x1b]0;owned\x07\x1b[31m\u202e"
    assert f"main{shown}\\x0d[/].tf:1: [rule{shown}\\x0d[/]] Invalid resource name {shown}" in text
