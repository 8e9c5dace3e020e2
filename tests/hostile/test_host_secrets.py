"""Threat: host secrets: AWS_* and other environment variables, ~/.aws, ~/.terraformrc, HOME."""

import json
import re

import pytest

from iacforge.verify.pipeline import Verifier

from .conftest import candidate, everything, run_terraform


@pytest.fixture
def host_secrets(canary, tmp_path, monkeypatch):
    """The host as a developer's laptop: credentials in the environment and in HOME."""
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws/credentials").write_text(
        f"[default]\naws_access_key_id = AKIAHOST\naws_secret_access_key = {canary.secret}\n")
    (home / ".terraformrc").write_text(f'credentials "app.terraform.io" {{\n'
                                       f'  token = "{canary.secret}"\n}}\n')
    monkeypatch.setenv("HOME", str(home))
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "GITHUB_TOKEN", "TF_VAR_leak",
                 "TF_TOKEN_app_terraform_io"):
        monkeypatch.setenv(name, canary.secret)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAHOST")
    monkeypatch.setenv("AWS_PROFILE", "production")
    monkeypatch.setenv("TF_CLI_CONFIG_FILE", str(home / ".terraformrc"))
    return canary.secret


@pytest.mark.slow
def test_a_plan_sees_no_host_secret(host_secrets):
    cert = Verifier(stages=["plan"]).verify(candidate("secrets"))
    assert cert.stage("plan").status == "pass", cert.stage("plan").diagnostics
    outputs = cert.plan["planned_values"]["outputs"]
    assert outputs["leak"]["value"] == "nothing to see"  # TF_VAR_leak never arrived
    # the run's own emulated account (a fresh 12-digit id), not the host's
    assert re.fullmatch(r"[1-9][0-9]{11}", outputs["account"]["value"])
    assert host_secrets not in json.dumps(cert.to_dict()) + json.dumps(cert.plan)
    assert "AKIAHOST" not in json.dumps(cert.plan)


def test_a_program_terraform_runs_finds_no_secret_in_its_environment_or_home(
        terraform, host_secrets):
    files = {"main.tf": 'resource "terraform_data" "snoop" {\n  provisioner "local-exec" {\n'
                        '    command = "env > env.txt; ls -a $HOME > home.txt; '
                        'cat ~/.aws/credentials ~/.terraformrc /root/.aws/credentials '
                        '> creds.txt 2>&1; true"\n  }\n}\n'}
    out, workspace = run_terraform(terraform, files, "apply", "-auto-approve", "-input=false",
                                   "-no-color")
    try:
        env = dict(line.split("=", 1) for line in
                   (workspace.path / "env.txt").read_text().splitlines() if "=" in line)
        home = (workspace.path / "home.txt").read_text().split()
        seen = everything(out, workspace)
    finally:
        workspace.close()
    assert out.returncode == 0, out.stderr
    assert host_secrets not in seen and "AKIAHOST" not in seen
    assert env["HOME"] == str(workspace.path / ".home")  # a scratch HOME in the workspace
    assert not {"AWS_PROFILE", "AWS_SECRET_ACCESS_KEY", "GITHUB_TOKEN"} & env.keys()
    assert env["TF_CLI_CONFIG_FILE"] != str(terraform.settings.cache_dir) + "/.terraformrc"
    assert set(home) <= {".", "..", ".terraform.d"}
