"""Threat: reading host files (`file()`, `templatefile()`, `fileset()` on absolute paths, `~`,
`..`), and symlinks planted in a multi-file candidate."""

import json
import os

from iacforge.hcl.extract import from_path
from iacforge.verify.pipeline import Verifier

from .conftest import FIXTURES, everything, fixture_files, run_terraform


def test_the_screen_refuses_every_host_path():
    cert = Verifier().verify(from_path(FIXTURES / "host_file_reads"))
    screen = cert.stage("screen")
    assert cert.status == "unsafe"
    assert [(d.summary, d.where(), d.address) for d in screen.diagnostics] == [
        ("file() reads outside the configuration", "main.tf:4", "output.absolute"),
        ("file() reads outside the configuration", "main.tf:8", "output.aws_credentials"),
        ("templatefile() reads outside the configuration", "main.tf:12", "output.climb"),
        ("fileset() reads outside the configuration", "main.tf:16", "output.listing"),
    ]


def test_read_anyway_no_host_file_is_visible(terraform, canary, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws/credentials").write_text(f"secret = {canary.secret}\n")
    monkeypatch.setenv("HOME", str(home))
    (tmp_path / "canary-secret.txt").write_text(canary.secret)  # what `..` would reach
    files = fixture_files("host_file_reads", canary)
    out, workspace = run_terraform(terraform, files, "plan", "-input=false", "-no-color",
                                   parent=tmp_path)
    try:
        seen = everything(out, workspace)
    finally:
        workspace.close()
    assert out.returncode != 0
    assert seen.count("no file exists at") == 3, seen
    assert canary.secret not in seen


def test_a_file_inside_the_workspace_is_still_read(terraform):
    """The control: the sandbox hides the host, not the candidate's own files."""
    files = {"main.tf": 'output "own" {\n  value = file("${path.module}/own.txt")\n}\n',
             "own.txt": "the candidate's own file"}
    out, workspace = run_terraform(terraform, files, "plan", "-input=false", "-no-color")
    workspace.close()
    assert out.returncode == 0, out.stderr
    assert "the candidate's own file" in out.stdout


def test_symlinks_in_a_candidate_are_refused_and_never_followed(canary, tmp_path):
    root = tmp_path / "candidate"
    root.mkdir()
    (root / "main.tf").write_text((FIXTURES / "symlinked_files/main.tf").read_text())
    (canary.dir / "leak.tf").write_text(f'locals {{\n  x = "{canary.secret}"\n}}\n')
    os.symlink(canary.dir / "leak.tf", root / "secrets.tf")
    os.symlink(canary.dir, root / "modules")
    found = from_path(root)
    assert sorted(found.files) == ["main.tf"]
    assert found.problems == ("secrets.tf: not a regular file (symlinks are not followed)",)
    cert = Verifier(stages=["parse"]).verify(found)
    assert cert.stage("extract").status == "fail"
    assert canary.secret not in json.dumps(cert.to_dict())
    (canary.dir / "leak.tf").unlink()  # the canary fixture checks nothing else changed
