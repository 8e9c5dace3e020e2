"""`iacforge verify --since REF` and `--changed FILE...` (the pre-commit hook's entry point)
on a real git repository: only the root modules touched are verified, by real terraform."""

from __future__ import annotations

import io
import json
import os
import subprocess
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from types import SimpleNamespace

import pytest

from iacforge.cli import main

VALID = ('variable "name" {\n  type = string\n}\n\n'
         'resource "aws_sqs_queue" "q" {\n  name = var.name\n}\n')
INVALID = 'resource "aws_s3_bucket" "logs" {\n  bucket        = "logs"\n  not_an_option = true\n}\n'
CALLER = 'module "queue" {\n  source = "./modules/queue"\n  name   = "orders"\n}\n'


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.email=t@t", "-c", "user.name=t", *args], cwd=repo,
                   check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """good/ calls its local module good/modules/queue; bad/ is invalid; docs/ has no Terraform."""
    files = {"good/main.tf": CALLER, "good/modules/queue/main.tf": VALID,
             "bad/main.tf": INVALID, "docs/README.md": "# docs\n"}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "init")
    return tmp_path


def verify(cwd: Path, *args: str, stages: str = "parse") -> tuple[int, list[str], str]:
    """Exit code, the `source` of each certificate, and stderr of `iacforge verify ARGS` run
    in `cwd` (in this process; the parse stage only unless asked: which roots are picked is
    what most tests check)."""
    here = os.getcwd()
    os.chdir(cwd)
    out_buf, err_buf = io.StringIO(), io.StringIO()
    try:
        with redirect_stdout(out_buf), redirect_stderr(err_buf):
            code = main(["verify", "--no-cache", "--stages", stages, "--format", "json", *args])
    finally:
        os.chdir(here)
    done = SimpleNamespace(returncode=code, stdout=out_buf.getvalue(), stderr=err_buf.getvalue())
    out = json.loads(done.stdout) if done.stdout.strip() else []
    certs = out if isinstance(out, list) else out.get("certificates", [out])
    return done.returncode, sorted(c["source"] for c in certs), done.stderr


def test_changed_maps_files_to_the_roots_that_hold_or_call_them(repo: Path) -> None:
    # the hook's entry point, with file names as pre-commit passes them (relative to the top)
    code, sources, _ = verify(repo, "--changed", "good/modules/queue/main.tf", "docs/README.md")
    assert (code, sources) == (0, ["good"])  # the module's caller, judged with the module
    # judged by real terraform: the invalid root fails the hook
    code, sources, _ = verify(repo, "--changed", "bad/main.tf", "good/main.tf",
                              stages="validate")
    assert (code, sources) == (1, ["bad", "good"])


def test_changed_files_outside_terraform_verify_nothing_and_say_so(repo: Path) -> None:
    code, sources, err = verify(repo, "--changed", "docs/README.md")
    assert (code, sources) == (0, [])
    assert "nothing to verify" in err


def test_since_takes_diff_and_untracked_files(repo: Path) -> None:
    code, sources, err = verify(repo, "--since", "HEAD")
    assert (code, sources) == (0, []) and "nothing to verify" in err
    with (repo / "bad/main.tf").open("a") as f:
        f.write("# edited\n")
    (repo / "new").mkdir()
    (repo / "new/main.tf").write_text(VALID.replace("var.name", '"n"').split("\n\n")[1])
    code, sources, _ = verify(repo, "--since", "HEAD")
    assert (code, sources) == (0, ["bad", "new"])
    # from a subdirectory, changes are still found; PATH narrows where roots are looked for
    code, sources, _ = verify(repo / "new", "--since", "HEAD")
    assert (code, sources) == (0, ["."])
    # a deleted file still touches its directory's root
    git(repo, "rm", "-q", "good/modules/queue/main.tf")
    code, sources, _ = verify(repo, "--since", "HEAD", "good")
    assert (code, sources) == (0, ["good"])


@pytest.mark.parametrize(("where", "ref", "message"), [
    ("repo", "no-such-branch", "unknown git ref"),
    ("repo", "--output=x", "not a git ref"),
    ("outside", "HEAD", "not inside a git repository"),
])
def test_since_errors_are_one_line_exit_2(repo: Path, tmp_path_factory: pytest.TempPathFactory,
                                          where: str, ref: str, message: str) -> None:
    cwd = repo if where == "repo" else tmp_path_factory.mktemp("plain")
    code, sources, err = verify(cwd, f"--since={ref}")
    assert code == 2 and sources == [] and message in err and len(err.strip().splitlines()) == 1


def test_no_path_without_since_is_a_usage_error(repo: Path) -> None:
    code, _, err = verify(repo)
    assert code == 2 and "arguments are required: PATH" in err
