"""A verifier process leaves nothing in the shared temp directory, even when SIGKILLed: its
scratch lives in one private directory, removed at exit or by the next process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from iacforge.verify.sandbox import bwrap as sandbox

SRC = str(Path(__file__).resolve().parents[2] / "src")
RUN = """
import sys
from iacforge import Candidate, Verifier
from iacforge.verify.sandbox.workspace import Workspace, scratch_dir
print(scratch_dir(), flush=True)
cert = Verifier(stages=["plan"]).verify(Candidate({"main.tf": 'data "aws_region" "r" {}\\n'}))
assert cert.passed, cert.to_dict()
if sys.argv[1] == "hang":
    Workspace({"main.tf": "# a copy of the candidate"})
    print("ready", flush=True)
    sys.stdin.read()
"""

pytestmark = pytest.mark.skipif(sandbox.probe() is not None, reason=str(sandbox.probe()))


def start(tmpdir: Path, mode: str) -> subprocess.Popen[str]:
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/"), "PYTHONPATH": SRC,
           "TMPDIR": str(tmpdir), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, "-c", RUN, mode], env=env, text=True,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)


def test_a_run_leaves_nothing_in_a_fresh_tmpdir(tmp_path):
    proc = start(tmp_path, "exit")
    scratch = Path(proc.stdout.readline().strip())
    assert proc.wait(timeout=300) == 0
    assert list(tmp_path.iterdir()) == []
    assert not scratch.exists()


def test_a_sigkilled_run_leaves_nothing_in_tmpdir_and_the_next_one_reaps_its_scratch(tmp_path):
    proc = start(tmp_path, "hang")
    scratch = Path(proc.stdout.readline().strip())
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(tmp_path.iterdir()) == []
    assert any(scratch.iterdir())  # the candidate's copy, until someone reaps it
    subprocess.run([sys.executable, "-c", "from iacforge.verify.sandbox.workspace import "
                    "scratch_dir; scratch_dir()"],
                   env={"PYTHONPATH": SRC, "HOME": os.environ.get("HOME", "/"),
                        "PATH": os.environ["PATH"]}, check=True)
    assert not scratch.exists()
