"""A terraform run that exits non-zero with no error to show is the verifier's `error`.

The real crash (a panic that printed nothing) cannot be provoked on demand, so a fake
terraform stands in for it, through IACFORGE_TERRAFORM_BIN: it hands `version` and `validate`
to the real binary and crashes on the command under test.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.errors import SetupError
from iacforge.verify.pipeline import Verifier
from iacforge.verify.sandbox import bwrap as sandbox

WARNING = json.dumps({"type": "diagnostic", "diagnostic": {
    "severity": "warning", "summary": "Deprecated attribute", "detail": ""}})
BUCKET = 'resource "aws_s3_bucket" "b" {\n  bucket = "fake-crash"\n}\n'


def fake_terraform(tmp_path: Path, crash_on: str, printed: str = "") -> Settings:
    """Settings whose terraform is a script that exits 2 on `crash_on`, printing `printed`."""
    try:
        real = Settings().terraform_path()
    except SetupError as exc:
        pytest.skip(str(exc))
    if not real.startswith("/usr/"):
        pytest.skip("the fake execs the real terraform, which the sandbox shows only under /usr")
    script = tmp_path / "bin" / "terraform"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\nif [ \"$1\" = {crash_on} ]; then\n"
                      f"  printf '%s' '{printed}'\n  exit 2\nfi\nexec {real} \"$@\"\n")
    script.chmod(0o755)
    return Settings(terraform_bin=str(script))


@pytest.fixture(autouse=True)
def _sandboxed() -> None:
    problem = sandbox.probe()
    if problem:
        pytest.skip(f"no sandbox on this machine: {problem}")


def test_a_silent_crash_of_terraform_get_is_an_error(tmp_path):
    files = {"main.tf": 'module "m" {\n  source = "./m"\n}\n', "m/main.tf": BUCKET}
    cert = Verifier(fake_terraform(tmp_path, "get"), stages=["validate"]).verify(
        Candidate(files))
    validate = cert.stage("validate")
    assert validate.status == "error"
    assert (validate.diagnostics[0].summary, validate.diagnostics[0].detail) == (
        "terraform get crashed", "exit code 2, no output")


def test_a_plan_that_crashes_after_a_warning_is_an_error(tmp_path):
    settings = fake_terraform(tmp_path, "plan", WARNING)
    cert = Verifier(settings, stages=["plan"]).verify(Candidate({"main.tf": BUCKET}))
    plan = cert.stage("plan")
    assert plan.status == "error"
    assert [d.summary for d in plan.diagnostics] == ["terraform plan crashed",
                                                     "Deprecated attribute"]
