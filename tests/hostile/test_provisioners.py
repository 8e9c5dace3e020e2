"""Threat: provisioners (local-exec, remote-exec, file) run programs on the applying machine."""

import pytest

from iacforge.verify.pipeline import Verifier

from .conftest import candidate, everything, fixture_files, run_terraform


def test_the_screen_refuses_every_provisioner():
    cert = Verifier().verify(candidate("provisioners"))
    screen = cert.stage("screen")
    assert (cert.status, screen.status) == ("unsafe", "unsafe")
    assert [(d.summary, d.where()) for d in screen.diagnostics] == [
        ('provisioner "local-exec" is not allowed', "main.tf:4"),
        ('provisioner "remote-exec" is not allowed', "main.tf:10"),
        ('provisioner "file" is not allowed', "main.tf:22"),
    ]
    assert {s.status for s in cert.stages[3:]} == {"skipped"}


@pytest.mark.slow
def test_applied_anyway_they_run_inside_the_sandbox_and_nothing_escapes(
        terraform, canary, listener, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", canary.secret)
    files = fixture_files("provisioners", canary, listener)
    out, workspace = run_terraform(terraform, files, "apply", "-auto-approve", "-input=false",
                                   "-no-color", "-parallelism=3")
    try:
        leaked_env = (workspace.path / "leaked_env.txt").read_text()
        seen = everything(out, workspace)
    finally:
        workspace.close()
    assert out.returncode != 0  # every provisioner failed ...
    assert "HOME=" in leaked_env  # ... though local-exec did run its command, in the sandbox
    assert canary.secret not in seen
    assert listener.accepted == 0
    assert not (canary.dir / "pwned.txt").exists()
