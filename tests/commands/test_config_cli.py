"""`iacforge config` shows each effective value and its source; `iacforge verify` obeys the
file (a real run: the file's --fail-on turns a pass into a fail, the command line wins back)."""

from __future__ import annotations

import io
import json
import os
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from iacforge.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures"


def cli(cwd: Path, *args: str) -> tuple[int, str, str]:
    """Exit code, stdout and stderr of `iacforge ARGS` run in `cwd` (in this process)."""
    here = os.getcwd()
    out, err = io.StringIO(), io.StringIO()
    os.chdir(cwd)
    try:
        with redirect_stdout(out), redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(here)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in ("STAGES", "FAIL_ON", "SKIP_CHECKS", "INTENT_RULE", "TIMEOUT", "WORKERS"):
        monkeypatch.delenv(f"IACFORGE_{key}", raising=False)
    (tmp_path / ".git").mkdir()
    return tmp_path


def test_config_shows_values_and_sources(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (project / "pyproject.toml").write_text(
        "[tool.iacforge]\nfail_on = ['security']\ntimeout = 30\n")
    monkeypatch.setenv("IACFORGE_TIMEOUT", "45")
    code, out, _ = cli(project, "config", "--format", "json")
    shown = json.loads(out)
    assert code == 0
    assert shown["fail_on"] == {"value": ["security"], "source": str(project / "pyproject.toml")}
    assert shown["timeout"] == {"value": 45.0, "source": "IACFORGE_TIMEOUT"}
    assert shown["intent_rule"] == {"value": "iac_eval", "source": "default"}
    assert shown["region"]["source"] == "default"  # the other Settings fields too
    code, out, _ = cli(project, "config")
    assert code == 0 and f"config file: {project / 'pyproject.toml'}" in out
    assert "fail_on" in out and "[IACFORGE_TIMEOUT]" in out


def test_a_bad_file_is_exit_2_naming_file_and_key(project: Path) -> None:
    (project / ".iacforge.toml").write_text("workers = -3\n")
    for command in (["config"], ["verify", "--no-cache", "."]):
        code, out, err = cli(project, *command)
        assert code == 2 and out == ""
        assert err.strip() == (f"iacforge: {project / '.iacforge.toml'}: workers: expected a "
                               "whole number greater than 0, got -3")


def test_verify_obeys_the_file_and_the_command_line_wins(project: Path) -> None:
    # a valid queue without encryption: checkov fails it, which gates only with fail_on
    (project / "main.tf").write_text('resource "aws_sqs_queue" "q" {\n  name = "q"\n}\n')
    args = ("verify", "--no-cache", "--format", "json", ".")
    (project / ".iacforge.toml").write_text(
        "stages = ['parse', 'security']\nfail_on = ['security']\n")
    code, out, _ = cli(project, *args)
    cert = json.loads(out)
    cert = cert["certificates"][0] if "certificates" in cert else cert
    assert code == 1 and cert["fail_on"] == ["security"]
    assert [s["stage"] for s in cert["stages"]] == ["extract", "parse", "screen", "security"]
    code, _, _ = cli(project, *args, "--skip-check", "CKV_AWS_27")
    assert code == 0
