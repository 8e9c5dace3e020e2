"""`iacforge eval` and `iacforge report` as a user runs them: subprocesses, kill -9, resume.

The model is the keyed backend of tests/eval/keyed_backend.py: replies chosen by the request
and the turn, never by call order, so a resumed run is owed exactly the replies an
uninterrupted run got, and any difference in the numbers is the harness's fault.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

FIXTURES = Path(__file__).parents[1] / "fixtures"
TASKS = FIXTURES / "iac_eval_mini.csv"
HELPER = Path(__file__).parents[1] / "eval" / "keyed_backend.py"
PROVIDER = ('terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws", '
            'version = "~> 5.0" }\n  }\n}\n')
GOOD = "```hcl main.tf\n" + PROVIDER + 'resource "aws_s3_bucket" "b" {}\n```'
BROKEN = '```hcl main.tf\nresource "aws_vpc" "v" {\n  cidr_block = "10.20.0.0/16"\n```'
SCRIPT = {
    "delay": 0.3,
    "replies": {"iacforge-mini-logs": [GOOD],           # right the first time
                "10.20.0.0/16": [BROKEN, GOOD],         # repaired in turn 2
                "orders-dlq": [BROKEN]},                # never repaired
    "default": "I would rather not write Terraform today.",  # no code at all
}
#: Cheap stages: the resume logic is the same whatever the stages cost.
EVAL = ["--tasks", str(TASKS), "--samples", "2", "--k", "1,2", "--turns", "2",
        "--stages", "parse,lint", "--chunk", "1", "--no-cache"]


def command(run: Path, script: Path, *extra: str) -> list[str]:
    return [sys.executable, str(HELPER), "eval", *EVAL, "--model", f"keyed:{script}",
            "--run", str(run), *extra]


def env(tmp_path: Path) -> dict[str, str]:
    return os.environ | {"IACFORGE_CACHE_DIR": str(tmp_path / "cache")}


def numbers(run: Path) -> dict:
    """results.json less the wall-clock figures, which differ between any two runs."""
    results = json.loads((run / "results.json").read_text())
    results["overall"].pop("seconds_per_task")
    return results


def keys(run: Path, name: str) -> list[tuple]:
    lines = (run / f"{name}.jsonl").read_text().splitlines()
    return [(r["task_id"], r["sample"], r["turn"]) for r in map(json.loads, lines)]


@pytest.fixture(scope="module")
def script(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("script") / "replies.json"
    path.write_text(json.dumps(SCRIPT))
    return path


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory, script) -> Path:
    root = tmp_path_factory.mktemp("whole")
    run = root / "whole"
    done = subprocess.run(command(run, script), capture_output=True, text=True, timeout=300,
                          env=env(root))
    assert done.returncode == 0, done.stderr
    return run


@pytest.mark.slow
def test_uninterrupted_run_reports_what_the_script_implies(uninterrupted):
    results = json.loads((uninterrupted / "results.json").read_text())
    rows = {row["task_id"]: row for row in results["tasks"]}
    assert results["complete"] and results["overall"]["samples"] == 12
    lint = {row["counts"]["lint"][0] for row in rows.values()}
    assert lint == {0, 2}  # S3 and VPC (after repair) pass lint, the rest never do
    assert results["by_turn"]["1"]["lint"] == pytest.approx(2 / 12)
    assert results["by_turn"]["2"]["lint"] == pytest.approx(4 / 12)
    turns = {(k[0], k[2]) for k in keys(uninterrupted, "samples")}
    assert len(turns) == 6 * 2 - 1  # every task gets a second turn but the S3 one


@pytest.mark.slow
def test_kill_9_then_the_same_command_gives_the_uninterrupted_numbers(tmp_path, script,
                                                                      uninterrupted):
    run = tmp_path / "killed"
    process = subprocess.Popen(command(run, script), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, env=env(tmp_path))
    samples = run / "samples.jsonl"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and process.poll() is None:
        if samples.is_file() and samples.read_text().count("\n") >= 4:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run ended before it could be killed"
    os.kill(process.pid, signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    written = samples.read_text().count("\n")
    assert 4 <= written < len(keys(uninterrupted, "samples"))

    resumed = subprocess.run(command(run, script), capture_output=True, text=True, timeout=300,
                             env=env(tmp_path))
    assert resumed.returncode == 0, resumed.stderr
    first = re.search(r": (\d+)/12 samples done", resumed.stderr)
    assert first and int(first.group(1)) >= 1, resumed.stderr  # it started where it stopped
    assert numbers(run) == numbers(uninterrupted)
    for name in ("samples", "replies"):
        got = keys(run, name)
        assert len(got) == len(set(got)), f"{name}.jsonl counts a key twice"
        assert sorted(got) == sorted(keys(uninterrupted, name))


@pytest.mark.slow
def test_report_over_two_runs_writes_the_page_and_the_summary(tmp_path, uninterrupted):
    out = tmp_path / "report"
    done = subprocess.run([sys.executable, "-m", "iacforge.cli", "report", str(uninterrupted),
                           str(uninterrupted), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    page = (out / "report.html").read_text()
    assert page.count("src='data:image/png;base64,") >= 4
    assert "| Metric |" in (out / "summary.md").read_text()


@pytest.mark.parametrize(("extra", "message"), [
    (["--samples", "2", "--k", "5"], "between 1 and --samples"),
    (["--references", "--samples", "3"], "one reference per task"),
    (["--stages", "parse,deploy"], "unknown stage(s) deploy"),
])
def test_usage_mistakes_exit_2_with_the_reason(tmp_path, extra, message):
    done = subprocess.run([sys.executable, "-m", "iacforge.cli", "eval", "--tasks", str(TASKS),
                           "--run", str(tmp_path / "run"), *extra],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_a_missing_task_file_is_a_usage_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "iacforge.cli", "eval", "--tasks",
                           str(tmp_path / "nope.csv"), "--references"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "does not exist" in done.stderr


@pytest.mark.slow
def test_references_of_the_fixture_pass_or_fail_where_they_should(tmp_path):
    """The benchmark sanity check, on real terraform: which references fail here, and why."""
    run = tmp_path / "refs"
    done = subprocess.run([sys.executable, "-m", "iacforge.cli", "eval", "--references",
                           "--tasks", str(TASKS), "--run", str(run), "--no-cache"],
                          capture_output=True, text=True, timeout=900, env=env(tmp_path))
    assert done.returncode == 0, done.stderr
    results = json.loads((run / "results.json").read_text())
    failures = {row["task_id"]: row["failure"] for row in results["tasks"]}
    by_resource = {t["resources"][0]: t["id"] for t in json.loads(
        (run / "run.json").read_text())["tasks"]}
    rds, sns = by_resource["aws_db_instance"], by_resource["aws_sns_topic"]
    # written for provider 4.x: `name` is gone from aws_db_instance in 5.x
    assert failures[rds]["stage"] == "validate"
    assert "Unsupported argument" in failures[rds]["summary"]
    # no defaults: is_valid is undefined, which IaC-Eval's rule lets through
    assert failures[sns]["stage"] == "intent (strict)"
    assert {t for t, f in failures.items() if f} == {rds, sns}
    rates = results["overall"]["rates"]
    assert (rates["compile"], rates["deploy"]) == (pytest.approx(5 / 6), pytest.approx(5 / 6))
    assert (rates["correct"], rates["correct_strict"]) == (pytest.approx(5 / 6),
                                                           pytest.approx(4 / 6))
    assert rds in done.stdout and "Unsupported argument" in done.stdout


@pytest.mark.parametrize(("args", "message"), [
    (["--temperature", "-1"], "argument --temperature: must be a number of at least 0"),
    (["--top-p", "0"], "argument --top-p: must be a number above 0 and at most 1"),
    (["--samples", "0"], "argument --samples: must be a whole number of at least 1"),
])
def test_a_bad_setting_is_exit_2_in_one_line(args, message, tmp_path, capsys):
    from iacforge.cli import main

    run = tmp_path / "run"
    with pytest.raises(SystemExit) as stopped:
        main(["eval", "--tasks", str(TASKS), "--references", "--run", str(run), *args])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1
    assert not run.exists()


def test_a_misspelt_fail_on_is_exit_2_in_one_line(capsys):
    from iacforge.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["eval", "--tasks", str(TASKS), "--fail-on", "security,linter"])
    err = capsys.readouterr().err
    assert stopped.value.code == 2 and err.count("\n") == 1
    assert "'linter' is not an advisory stage" in err
