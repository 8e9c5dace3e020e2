"""The staged verifier: stage order and prerequisites, skips with reasons, verdicts that are
not the candidate's fault, and an IaC-Eval-style task judged end to end."""

from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.errors import IacforgeError
from iacforge.hcl.extract import from_path
from iacforge.reward import reward
from iacforge.verify.context import StageContext
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier, require_policy, resolve_stages
from iacforge.verify.stages import intent

FIXTURES = Path(__file__).parents[1] / "fixtures"
TASK = "tasks/vpc_two_subnets_in_two_azs"
ALL = ("extract", "parse", "validate", "plan", "intent", "security", "lint")


def statuses(cert) -> list[tuple[str, str]]:
    return [(s.stage, s.status) for s in cert.stages]


def ran(cert, expected: dict[str, str]) -> None:
    """The named stages ran in this order with these statuses, and the last named one was last.

    Gate stages that others add between them (the sandbox screen) do not break the check.
    """
    got = statuses(cert)
    assert [(n, s) for n, s in got if n in expected] == list(expected.items())
    assert got[-1][0] == list(expected)[-1]


def in_order(expected: tuple[str, ...], got: tuple[str, ...]) -> bool:
    return [n for n in got if n in expected] == list(expected)


def skip_reasons(cert) -> dict[str, str]:
    return {s.stage: s.diagnostics[0].summary for s in cert.stages if s.status == "skipped"}


def errors(result) -> list[str]:
    return [d.summary for d in result.diagnostics if d.severity == "error"]


@pytest.mark.parametrize(
    ("asked", "with_intent", "expected"),
    [
        (["plan"], False, ("extract", "parse", "validate", "plan")),
        (["lint"], False, ("extract", "parse", "lint")),
        (["security", "extract"], False, ("extract", "parse", "security")),
        (["intent"], True, ("extract", "parse", "validate", "plan", "intent")),
        (None, False, ("extract", "parse", "validate", "plan", "security", "lint")),
        (None, True, ALL),
    ],
)
def test_stages_run_in_order_with_their_prerequisites(asked, with_intent, expected):
    got = resolve_stages(asked, with_intent=with_intent)
    assert in_order(expected, got)
    later = ALL[ALL.index(expected[-1]) + 1:]
    assert not set(later) & set(got), f"{got} runs stages after {expected[-1]}"


def test_an_unknown_stage_is_an_error_listing_the_choices():
    with pytest.raises(IacforgeError, match=r"unknown stage\(s\) deploy; choose from extract,"):
        resolve_stages(["parse", "deploy"], with_intent=False)


def test_the_intent_stage_needs_a_policy_in_the_batch_and_skips_a_candidate_without_one():
    with pytest.raises(IacforgeError, match="needs an intent policy"):
        require_policy(["intent"], [None, None])
    require_policy(["intent"], [None, IntentPolicy("package p")])
    require_policy(None, [None])
    assert resolve_stages(["parse", "intent"], with_intent=False) == (
        "extract", "parse", "screen", "validate", "plan")


def test_replace_changes_only_what_it_names_and_shares_the_bound_terraform():
    verifier = Verifier(stages=["parse"], options=VerifierOptions(intent_rule="strict"))
    bound = verifier.terraform
    other = verifier.replace(stages=["extract"])
    assert (other.stages, other.options, other.settings) == (
        ("extract",), verifier.options, verifier.settings)
    assert other.terraform is bound
    assert verifier.replace(terraform=None)._terraform is None
    with pytest.raises(TypeError, match="stagse"):
        verifier.replace(stagse=["parse"])


def test_a_parse_failure_skips_every_later_stage_with_the_reason(certify):
    cert = certify("stages/fail_parse_unbalanced_braces")
    ran(cert, {"extract": "pass", "parse": "fail", "validate": "skipped", "plan": "skipped",
               "security": "skipped", "lint": "skipped"})
    assert all(s.status == "skipped" for s in cert.stages[2:])
    reasons = skip_reasons(cert)
    assert reasons["plan"] == "skipped: validate did not pass"
    assert reasons["security"] == reasons["lint"] == "skipped: parse did not pass"
    assert reasons["validate"].startswith("skipped: ")
    assert (cert.status, cert.failed_stage, cert.plan) == ("fail", "parse", None)


@pytest.mark.slow
def test_a_validate_failure_skips_plan(certify):
    cert = certify("stages/fail_validate_unknown_argument", ("plan",))
    ran(cert, {"extract": "pass", "parse": "pass", "validate": "fail", "plan": "skipped"})
    assert skip_reasons(cert) == {"plan": "skipped: validate did not pass"}
    assert reward(cert) == 0.0


@pytest.mark.slow
def test_a_plan_failure_skips_intent(certify):
    cert = certify("stages/fail_plan_no_matching_vpc", ("intent",), f"{TASK}/intent_v1.rego")
    ran(cert, {"extract": "pass", "parse": "pass", "validate": "pass", "plan": "fail",
               "intent": "skipped"})
    assert skip_reasons(cert) == {"intent": "skipped: plan did not pass"}
    assert (cert.plan, cert.rego) == (None, None)
    assert reward(cert) == 0.5


@pytest.mark.slow
def test_asking_for_plan_runs_exactly_its_prerequisites(certify):
    cert = certify("stages/pass_account_settings_normalised", ("plan",))
    ran(cert, {"extract": "pass", "parse": "pass", "validate": "pass", "plan": "pass"})
    assert cert.passed and reward(cert) == 1.0


def test_a_provider_the_mirror_lacks_is_an_error_naming_it(certify):
    cert = certify("stages/error_provider_random", ("plan",))
    ran(cert, {"parse": "pass", "validate": "error", "plan": "skipped"})
    assert errors(cert.stage("validate")) == ["provider 'random' is not available offline"]
    assert (cert.status, reward(cert)) == ("error", None)


def test_a_remote_module_is_never_fetched_nor_judged(certify):
    """The screen lets a registry module through; validate reports it as `error` (see
    test_validate): no verdict on the candidate's merit, and no reward."""
    cert = certify("stages/error_remote_module", ("plan",))
    ran(cert, {"parse": "pass", "screen": "pass", "plan": "skipped"})
    stopped = cert.stage(cert.failed_stage)
    assert (stopped.stage, stopped.status, reward(cert)) == ("validate", "error", None)
    assert "'terraform-aws-modules/vpc/aws'" in " ".join(
        d.summary + d.detail for d in stopped.diagnostics)


def test_an_empty_candidate_fails_extract_with_a_clear_message():
    cert = Verifier(stages=["parse"]).verify(Candidate({}, "api"))
    ran(cert, {"extract": "fail", "parse": "skipped"})
    assert errors(cert.stage("extract")) == ["no Terraform files"]
    assert cert.why() == "extract fail: no Terraform files"


def test_a_file_name_escaping_the_workspace_is_unsafe():
    cert = Verifier(stages=["plan"]).verify(Candidate({"../escape.tf": "locals {}\n"}))
    ran(cert, {"parse": "pass", "validate": "unsafe", "plan": "skipped"})
    assert cert.stage("validate").diagnostics[0].detail == (
        "file name '../escape.tf' escapes the workspace"
    )
    assert reward(cert) == 0.0


def test_the_certificate_names_the_candidate_it_judged(certify):
    cert = certify("stages/fail_parse_unbalanced_braces")
    candidate = from_path(FIXTURES / "stages/fail_parse_unbalanced_braces")
    assert cert.content_hash == candidate.content_hash()
    assert (cert.source, cert.files) == (candidate.source, ("main.tf",))


def test_stage_times_are_measured(certify):
    cert = certify("stages/fail_parse_unbalanced_braces")
    assert all(s.seconds >= 0 for s in cert.stages)
    assert cert.stage("parse").seconds > 0


# An IaC-Eval-style task: a prompt, its intent in Rego v0 and v1, and a reference solution.


@pytest.fixture(scope="module")
def reference(certify):
    """The reference solution through every stage, judged by the v0 intent."""
    return certify(f"{TASK}/reference", None, f"{TASK}/intent_v0.rego")


@pytest.mark.slow
def test_the_reference_passes_extract_to_intent_with_the_v0_intent(reference):
    assert in_order(ALL, tuple(s.stage for s in reference.stages))
    assert all(reference.passes(stage) for stage in ALL[:5])
    metrics = reference.stage("intent").metrics
    assert metrics["rules_true"] == metrics["rules_total"] == 5
    assert metrics["top_rule"] == "is_valid"
    assert reference.rego["is_valid"] is True
    assert len(set(reference.rego["subnet_zones"])) == 2
    addresses = {c["address"] for c in reference.plan["resource_changes"]}
    assert addresses == {"aws_vpc.main", "aws_subnet.a", "aws_subnet.b"}
    assert reward(reference) == 2.0


def judge(plan: dict, policy_file: str):
    """The intent stage's verdict on `plan` (the pipeline hands it the same context)."""
    policy = IntentPolicy.from_file(FIXTURES / TASK / policy_file)
    return intent.run(StageContext(Candidate({}), Settings(), intent=policy, plan=plan))


@pytest.mark.slow
def test_the_v1_intent_passes_the_same_plan(reference):
    assert IntentPolicy.from_file(FIXTURES / TASK / "intent_v1.rego").v1
    assert not IntentPolicy.from_file(FIXTURES / TASK / "intent_v0.rego").v1
    result = judge(reference.plan, "intent_v1.rego")
    assert result.status == "pass"
    assert result.metrics["rules_true"] == result.metrics["rules_total"] == 4


@pytest.mark.slow
def test_a_broken_intent_fails_the_same_plan_naming_the_false_rule(reference):
    """The whole pipeline with this intent runs in tests/commands/test_verify_cli.py."""
    result = judge(reference.plan, "intent_broken_v1.rego")
    assert result.status == "fail"
    assert set(errors(result)) == {
        "intent rule has_three_subnets is false", "intent rule is_valid is false",
    }
    assert (result.metrics["rules_true"], result.metrics["rules_total"]) == (1, 3)
