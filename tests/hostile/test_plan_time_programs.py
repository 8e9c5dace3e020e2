"""Threat: providers that run programs, fetch URLs or write host files at plan time
(`data "external"`, `data "http"`, `local_file`, `null_resource`)."""

from iacforge.config import Settings
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier

from .conftest import PERMISSIVE, candidate, everything


def test_the_screen_refuses_each_provider():
    cert = Verifier().verify(candidate("plan_time_programs"))
    assert cert.status == "unsafe"
    assert [(d.summary, d.where()) for d in cert.stage("screen").diagnostics] == [
        ("provider external is not allowed", "main.tf:2"),
        ("provider http is not allowed", "main.tf:6"),
        ("provider local is not allowed", "main.tf:10"),
        ("provider null is not allowed", "main.tf:15"),
    ]


def test_let_through_nothing_runs_for_the_provider_is_not_there(canary, listener):
    verifier = Verifier(Settings(), stages=["plan"],
                        options=VerifierOptions(screen_policy=PERMISSIVE))
    cert = verifier.verify(candidate("plan_time_programs", canary, listener))
    assert [(s.stage, s.status) for s in cert.stages][2:] == [
        ("screen", "pass"), ("validate", "error"), ("plan", "skipped")]
    assert {d.summary for d in cert.stage("validate").diagnostics} >= {
        "provider 'external' is not available offline", "provider 'http' is not available offline"}
    assert listener.accepted == 0


def test_the_program_an_external_data_source_would_run_is_contained(terraform, tmp_path,
                                                                      canary, listener):
    program = (f"import socket, pathlib\n"
               f"for step in ("
               f"lambda: pathlib.Path({str(canary.file)!r}).read_text(),\n"
               f"             lambda: pathlib.Path({str(canary.dir / 'pwned.txt')!r})"
               f".write_text('pwned'),\n"
               f"             lambda: socket.create_connection(('127.0.0.1', {listener.port}),"
               f" timeout=3)):\n"
               f"    try:\n        print('escaped', step())\n"
               f"    except OSError as exc:\n        print('contained', type(exc).__name__)\n")
    work = tmp_path / "work"
    work.mkdir()
    out = terraform.sandbox(["python3", "-c", program], cwd=work,
                            env={"PATH": "/usr/bin:/bin"}, timeout=30)
    assert out.stdout.split().count("contained") == 3, everything(out)
    assert canary.secret not in everything(out)
    assert listener.accepted == 0
