"""Threat: code and state from elsewhere: module sources (git, http, registry, S3, a local path
outside the candidate), a local backend path outside it, `terraform_remote_state`."""


from iacforge.config import Settings
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier

from .conftest import PERMISSIVE, candidate, everything, fixture_files, run_terraform


def test_the_screen_refuses_every_foreign_source_but_the_registry():
    cert = Verifier().verify(candidate("remote_sources"))
    assert cert.status == "unsafe"
    assert [(d.rule_id.rsplit("/", 1)[1], d.line, d.address)
            for d in cert.stage("screen").diagnostics] == [
        ("backend-path", 5, "terraform"),
        ("module-source", 10, "module.from_git"),
        ("module-source", 14, "module.from_http"),
        ("module-source", 22, "module.from_s3"),
        ("module-source", 26, "module.from_outside"),
        ("type", 29, "data.terraform_remote_state.other"),
    ]


def test_let_through_the_verifier_fetches_nothing(canary, listener):
    verifier = Verifier(Settings(), stages=["plan"],
                        options=VerifierOptions(screen_policy=PERMISSIVE))
    cert = verifier.verify(candidate("remote_sources", canary, listener))
    assert cert.stage("validate").status == "error"
    assert sum(d.summary == "remote module not fetched"
               for d in cert.stage("validate").diagnostics) == 4
    assert listener.accepted == 0


def test_run_anyway_terraform_reaches_no_module_and_no_state_outside(terraform, canary,
                                                                        listener, tmp_path):
    outside = tmp_path / "outside_module"
    outside.mkdir()
    (outside / "main.tf").write_text(f'output "secret" {{\n  value = "{canary.secret}"\n}}\n')
    files = fixture_files("remote_sources", canary, listener)
    got, workspace = run_terraform(terraform, files, "get", "-no-color", parent=tmp_path)
    try:
        seen = everything(got, workspace)
        planned = terraform.run(["plan", "-input=false", "-no-color", "-lock=false"],
                                workspace.path)
        seen += everything(planned, workspace)
    finally:
        workspace.close()
    assert got.returncode != 0 and planned.returncode != 0
    assert listener.accepted == 0
    assert canary.secret not in seen
    assert not (canary.dir / "stolen.tfstate").exists()
