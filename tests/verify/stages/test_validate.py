"""Validate (FV-i): terraform's own verdict, what it cannot judge offline, and timeouts."""

from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.hcl.parse import parse_files
from iacforge.verify.context import StageContext
from iacforge.verify.sandbox.workspace import Workspace
from iacforge.verify.stages import validate
from iacforge.verify.terraform.runner import Terraform

RULE = "terraform/validate"
FIXTURES = Path(__file__).parents[2] / "fixtures"


@pytest.mark.slow
def test_an_unknown_argument_fails_with_terraforms_diagnostic(certify):
    result = certify("stages/fail_validate_unknown_argument", ("plan",)).stage("validate")
    assert result.status == "fail"
    (diagnostic,) = result.diagnostics
    assert (diagnostic.severity, diagnostic.summary, diagnostic.rule_id) == (
        "error", "Unsupported argument", RULE)
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("main.tf", 8, 3)
    assert '"versioning_enabled" is not expected here' in diagnostic.detail
    assert result.metrics == {"errors": 1, "warnings": 0}


@pytest.mark.slow
def test_a_tf_json_candidate_passes(certify):
    result = certify("stages/pass_tf_json", ("validate",)).stage("validate")
    assert result.status == "pass"
    assert [(d.severity, d.summary, d.file) for d in result.diagnostics] == [
        ("info", "Provider account settings ignored", "main.tf.json"),
    ]


@pytest.mark.slow
def test_normalisation_notes_are_reported_at_the_candidates_own_lines(certify):
    result = certify("stages/pass_account_settings_normalised", ("plan",)).stage("validate")
    assert result.status == "pass"
    assert {(d.severity, d.summary, d.line) for d in result.diagnostics} == {
        ("warning", "required_version ignored", 4),
        ("warning", 'backend "s3" ignored', 6),
        ("warning", "aws provider version constraint cannot be met offline", 13),
        ("info", "Provider account settings ignored", 20),
    }


@pytest.mark.slow
def test_a_local_module_is_read_from_disk(certify):
    cert = certify("stages/pass_local_module", ("validate",))
    assert cert.files == ("main.tf", "modules/bucket/main.tf")
    assert cert.stage("validate").status == "pass"


def test_a_provider_the_mirror_lacks_is_an_error_before_terraform_runs(certify):
    result = certify("stages/error_provider_random", ("plan",)).stage("validate")
    assert result.status == "error"
    (diagnostic,) = result.diagnostics
    assert diagnostic.summary == "provider 'random' is not available offline"
    assert (diagnostic.address, diagnostic.rule_id) == (
        "random_id.suffix", "iacforge/offline-provider")
    assert result.seconds < 2  # judged from the model, no terraform run


def test_a_remote_module_is_an_error_naming_its_source(tmp_path: Path):
    files = {"main.tf": (FIXTURES / "stages/error_remote_module/main.tf").read_text()}
    result = validate.run(_context(files, Settings(), tmp_path))
    assert result.status == "error"
    (diagnostic,) = result.diagnostics
    assert (diagnostic.file, diagnostic.line, diagnostic.address) == ("main.tf", 2, "module.vpc")
    assert "'terraform-aws-modules/vpc/aws'" in diagnostic.detail


def test_a_tf_json_required_provider_the_mirror_lacks_is_an_error(tmp_path: Path):
    files = {"main.tf.json": '{"terraform": {"required_providers": '
                             '{"random": {"source": "hashicorp/random"}}}}'}
    ctx = _context(files, Settings(), tmp_path)
    result = validate.run(ctx)
    assert result.status == "error"
    assert result.diagnostics[0].summary == "provider 'random' is not available offline"


def test_a_validate_that_times_out_is_an_error_not_a_fail(tmp_path: Path):
    files = {"main.tf": 'resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n'}
    with Workspace(files) as workspace:
        ctx = _context(files, Settings(timeout=0.01), workspace.path)
        result = validate.run(ctx)
    assert result.status == "error"
    assert result.diagnostics[0].summary == "terraform validate timed out"


def _context(files: dict[str, str], settings: Settings, workdir: Path) -> StageContext:
    terraform = Terraform(settings)
    terraform.link(workdir)
    model = parse_files(files).model
    return StageContext(Candidate(files), settings, workdir=workdir, terraform=terraform,
                        model=model)
