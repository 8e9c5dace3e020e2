"""Threat: resource exhaustion: huge `count`/`range`, deep nesting, enormous strings, many
files, expressions that would hang the verifier's own process, a candidate that never ends."""

import os
import tempfile
import time
from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier
from iacforge.verify.terraform.emulator import shared_server

from .conftest import PERMISSIVE, candidate, fixture_files, run_terraform

CASES = {
    "count": 'resource "terraform_data" "x" {\n  count = 1000000\n}\n',
    "range": 'locals {\n  ids = toset([for i in range(50000000) : tostring(i)])\n}\n',
    "pow": 'locals {\n  x = pow(10, pow(10, 9))\n}\n',
    "format": 'locals {\n  pad = format("%01000000000d", 1)\n}\n',
    "nesting": "locals {\n  x = " + "[" * 200 + "]" * 200 + "\n}\n",
    "string-size": f'locals {{\n  s = "{"A" * 500_000}"\n}}\n',
}


@pytest.mark.parametrize("rule", sorted(CASES))
def test_the_screen_refuses_what_would_exhaust_a_run(rule):
    start = time.monotonic()
    cert = Verifier().verify(Candidate({"main.tf": CASES[rule]}))
    assert time.monotonic() - start < 10  # and never handed it to checkov or terraform
    assert cert.status == "unsafe"
    assert {d.rule_id for d in cert.stage("screen").diagnostics} == {f"iacforge/screen/{rule}"}


def test_too_many_files_are_refused():
    files = {f"part_{i:03}.tf": f'locals {{\n  v{i} = {i}\n}}\n' for i in range(100)}
    cert = Verifier(stages=["screen"]).verify(Candidate(files))
    assert [d.summary for d in cert.stage("screen").diagnostics] == ["100 files (at most 64)"]


def test_the_runaway_fixture_is_refused():
    cert = Verifier().verify(candidate("runaway_count"))
    (finding,) = cert.stage("screen").diagnostics
    assert (finding.summary, finding.line) == ("count of 200000 (at most 1000)", 3)


@pytest.mark.slow
def test_let_through_a_runaway_plan_ends_at_its_timeout_and_leaves_no_process(tmp_path,
                                                                              monkeypatch):
    shared_server()  # started first: it lives on, in a directory of its own
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the workspace goes here
    settings = Settings(timeout=4)
    verifier = Verifier(settings, stages=["plan"],
                        options=VerifierOptions(screen_policy=PERMISSIVE))
    start = time.monotonic()
    cert = verifier.verify(candidate("runaway_count"))
    assert time.monotonic() - start < 60
    # under load even validate may hit a 4 s timeout; either way the run was cut off
    stopped = next(s for s in cert.stages if s.status != "pass")
    assert (stopped.stage, stopped.status) in (("validate", "error"), ("plan", "error"))
    assert stopped.diagnostics[0].summary == f"terraform {stopped.stage} timed out"
    assert _running_in(str(tmp_path)) == []


@pytest.mark.slow
def test_a_runaway_terraform_process_tree_is_killed_whole(terraform):
    out, workspace = run_terraform(terraform, fixture_files("runaway_count"), "plan",
                                   "-input=false", "-no-color", timeout=3)
    try:
        assert out.timed_out
        assert _running_in(str(workspace.path)) == []
    finally:
        workspace.close()


def _running_in(prefix: str, within: float = 5.0) -> list[int]:
    """Live processes whose working directory starts with `prefix` (after a grace period)."""
    deadline = time.monotonic() + within
    while True:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                cwd = os.readlink(proc / "cwd") if proc.name.isdigit() else ""
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0] if cwd else ""
            except OSError:
                continue
            if cwd.startswith(prefix) and state not in ("Z", "X"):
                found.append(int(proc.name))
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)
