"""Plan (FV-ii): offline against the emulator, with the candidate's account settings removed."""

from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.verify.context import StageContext
from iacforge.verify.sandbox.workspace import Workspace
from iacforge.verify.stages import plan
from iacforge.verify.terraform.emulator import shared_server
from iacforge.verify.terraform.runner import Terraform

TASK = "tasks/vpc_two_subnets_in_two_azs"
QUEUE = {"main.tf": 'resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n'}


@pytest.fixture(scope="module")
def normalised(certify):
    """profile, assume_role, required_version ~> 0.12, aws ~> 3.0 and an S3 backend."""
    return certify("stages/pass_account_settings_normalised", ("plan",))


@pytest.mark.slow
def test_a_candidate_written_for_a_real_account_plans_offline(normalised):
    result = normalised.stage("plan")
    assert result.status == "pass"
    assert result.metrics == {"resource_changes": 1}
    (change,) = normalised.plan["resource_changes"]
    assert (change["address"], change["change"]["actions"]) == ("aws_sqs_queue.jobs", ["create"])


@pytest.mark.slow
def test_terraform_saw_none_of_the_account_settings(normalised):
    provider = normalised.plan["configuration"]["provider_config"]["aws"]
    assert set(provider["expressions"]) == {"region"}
    assert "version_constraint" not in provider


@pytest.mark.slow
def test_a_data_source_with_no_match_fails_plan_at_its_line(certify):
    cert = certify("stages/fail_plan_no_matching_vpc", ("intent",), f"{TASK}/intent_v1.rego")
    result = cert.stage("plan")
    assert result.status == "fail"
    (diagnostic,) = result.diagnostics
    assert (diagnostic.severity, diagnostic.summary, diagnostic.rule_id) == (
        "error", "no matching EC2 VPC found", "terraform/plan")
    assert (diagnostic.file, diagnostic.line) == ("main.tf", 6)


def test_without_an_emulator_plan_is_an_error(tmp_path: Path):
    ctx = _context(Settings(), tmp_path, endpoint=None)
    result = plan.run(ctx)
    assert (result.status, result.diagnostics[0].summary) == ("error", "no AWS emulator")


def test_a_plan_that_times_out_is_an_error_not_a_fail():
    with Workspace(QUEUE) as workspace:
        # the timeout strikes long before terraform could send a request
        ctx = _context(Settings(timeout=0.01), workspace.path, endpoint=shared_server().endpoint)
        result = plan.run(ctx)
    assert result.status == "error"
    assert result.diagnostics[0].summary == "terraform plan timed out"
    assert ctx.plan is None


def _context(settings: Settings, workdir: Path, *, endpoint: str | None) -> StageContext:
    terraform = Terraform(settings)
    terraform.link(workdir)
    return StageContext(Candidate(QUEUE), settings, workdir=workdir, terraform=terraform,
                        aws_endpoint=endpoint)
