"""The verdict policy: the correctness stages decide a certificate's verdict, the exit code and
the repair loop's stop; security and lint are shown and scored, and gate only under fail_on."""

from __future__ import annotations

import pytest

from iacforge.certificate import Certificate
from iacforge.commands.verify import exit_code
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.errors import ConfigError
from iacforge.eval.metrics import judge
from iacforge.formal import FV1, FV2, FV3, parse_fail_on
from iacforge.generate import LoopConfig, Request, run_loop
from iacforge.llm import ScriptedBackend
from iacforge.reward import reward
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier

CORRECT = tuple(StageResult(n, "pass") for n in FV2)
FINDING = Diagnostic("warning", "Ensure the S3 bucket has access logging enabled",
                     rule_id="CKV_AWS_18")
ADVISED = (*CORRECT, StageResult("security", "fail", (FINDING,), metrics={"compliance": 0.5}),
           StageResult("lint", "pass"))
BUCKET = '```hcl main.tf\nresource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n```\n'


def test_the_gates_nest():
    assert FV1 == FV2[:-1] == FV3[:-2] and FV1[-1] == "validate" and FV3[-1] == "intent"


@pytest.mark.parametrize(("fail_on", "status", "code"), [
    ((), "pass", 0), (("lint",), "pass", 0), (("security",), "fail", 1),
    (("security", "lint"), "fail", 1),
])
def test_security_gates_the_verdict_only_when_asked(fail_on, status, code):
    cert = Certificate("h", ADVISED, fail_on=fail_on)
    assert (cert.status, cert.passed, exit_code([cert])) == (status, status == "pass", code)
    assert cert.failed_stage == (None if status == "pass" else "security")
    assert Certificate.from_dict(cert.to_dict()) == cert


def test_the_policy_changes_neither_reward_nor_metrics():
    plain, strict = Certificate("h", ADVISED), Certificate("h", ADVISED, fail_on=("security",))
    assert reward(plain) == reward(strict) == 1.0
    assert judge(plain) == judge(strict)


def test_a_correctness_failure_is_reported_before_a_gating_advisory_one():
    stages = (*ADVISED, StageResult("apply", "error"))
    cert = Certificate("h", stages, fail_on=("security",))
    assert (cert.failed_stage, cert.status, exit_code([cert])) == ("apply", "error", 1)
    assert exit_code([Certificate("h", stages)]) == 3  # security does not count: only the error


@pytest.mark.parametrize("bad", ["secrity", "plan", ["security", "lnt"]])
def test_fail_on_names_only_advisory_stages(bad):
    with pytest.raises(ConfigError, match="choose from security, lint"):
        parse_fail_on(bad)
    with pytest.raises(ConfigError):
        VerifierOptions(fail_on=bad)


@pytest.mark.parametrize(("options", "message"), [
    ({"intent_rule": "strcit"}, "intent_rule must be one of iac_eval, strict; got 'strcit'"),
    ({"rego_engine": "rego"}, "rego_engine must be one of auto, regorus, opa; got 'rego'"),
    ({"skip_checks": "CKV_AWS_18"}, "skip_checks must be a list of check ids"),
])
def test_a_misspelt_option_is_refused_when_made(options, message):
    with pytest.raises(ConfigError, match=message):
        VerifierOptions(**options)


def test_an_unknown_stage_is_refused_when_the_verifier_is_made():
    with pytest.raises(ConfigError, match="unknown stage"):
        Verifier(stages=["parse", "plna"])


def test_the_verifier_takes_fail_on_from_its_settings_unless_its_options_say(monkeypatch):
    monkeypatch.setenv("IACFORGE_FAIL_ON", "lint")
    assert Verifier().options.fail_on == ("lint",)
    assert Verifier(options=VerifierOptions(fail_on=())).options.fail_on == ()


@pytest.mark.parametrize(("fail_on", "calls"), [((), 1), (("security",), 3)])
def test_the_repair_loop_stops_at_a_correct_answer_unless_security_gates(fail_on, calls):
    backend = ScriptedBackend([BUCKET] * 3)
    verifier = Verifier(stages=["parse", "security"], options=VerifierOptions(fail_on=fail_on))
    result = run_loop(backend, verifier, Request("A bucket named logs."),
                      LoopConfig(samples=1, turns=3))
    assert len(backend.calls) == calls and result.passed == (not fail_on)
    assert result.best.certificate.stage("security").status == "fail"
