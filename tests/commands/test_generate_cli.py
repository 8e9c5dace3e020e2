"""`iacforge generate` and `iacforge mutate` with a scripted model: files written, certificate
and diff printed, JSON for machines, trajectories on request, inputs never overwritten."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from iacforge.cli import main

GOOD = '```hcl main.tf\nresource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n```\n'
BROKEN = '```hcl main.tf\nresource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n```\n'
OUTPUTS = 'output "url" {\n  value = aws_sqs_queue.jobs.url\n}\n'
FAST = ["--stages", "extract,parse", "--samples", "1"]


def script(tmp_path: Path, *replies: str) -> str:
    path = tmp_path / "replies.json"
    path.write_text(json.dumps(list(replies)))
    return f"scripted:{path}"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    """A configuration to mutate, with a file that is not Terraform source."""
    d = tmp_path / "queue"
    d.mkdir()
    (d / "main.tf").write_text('resource "aws_sqs_queue" "jobs" {}\n')
    (d / "outputs.tf").write_text(OUTPUTS)
    (d / "terraform.tfvars").write_text('region = "us-east-1"\n')
    return d


def test_generate_writes_the_best_files_and_prints_the_certificate(tmp_path, capsys):
    out = tmp_path / "out"
    code = main(["generate", "An SQS queue named jobs", "--model", script(tmp_path, BROKEN, GOOD),
                 "--out", str(out), "--turns", "3", *FAST])
    stdout, stderr = capsys.readouterr()
    assert code == 0
    assert (out / "main.tf").read_text() == GOOD.split("\n", 1)[1].rsplit("```", 1)[0]
    assert "parse" in stdout and "best: sample 1, turn 2" in stdout
    # not a terminal: one progress line per turn on stderr
    assert "turn 1/3 · done 1/1 samples · best reward 0.00" in stderr
    assert "turn 2/3" in stderr and "passed" in stderr


def test_generate_json_and_trajectories(tmp_path, capsys):
    traj = tmp_path / "runs.jsonl"
    code = main(["generate", "An SQS queue", "--model", script(tmp_path, BROKEN, BROKEN),
                 "--out", str(tmp_path / "out"), "--turns", "2", "--trajectories", str(traj),
                 "--json", *FAST])
    data = json.loads(capsys.readouterr().out)
    assert code == 1
    assert data["passed"] is False and data["turns_used"] == 2 and data["kind"] == "generate"
    assert data["best"]["certificate"]["status"] == "fail"
    assert data["written"] == ["main.tf"] and data["out"] == str(tmp_path / "out")
    (line,) = traj.read_text().splitlines()
    assert [t["turn"] for t in json.loads(line)["turns"]] == [1, 2]


def test_generate_never_reuses_an_output_directory(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    for _ in range(2):
        assert main(["generate", "An SQS queue, please!", "--model",
                     script(tmp_path, GOOD), *FAST]) == 0
    assert sorted(p.name for p in (tmp_path / "generated").iterdir()) == [
        "an-sqs-queue-please", "an-sqs-queue-please-2"]


def test_a_bad_stage_is_a_usage_error_before_any_model_loads(tmp_path, capsys):
    code = main(["generate", "x", "--model", "scripted:/does/not/exist.json",
                 "--stages", "parse,nope"])
    assert code == 2 and "nope" in capsys.readouterr().err


def test_bad_loop_settings_are_usage_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(["generate", "x", "--model", "scripted:x", "--samples", "0"])
    assert stopped.value.code == 2
    assert "--samples: must be a whole number of at least 1" in capsys.readouterr().err


def test_mutate_writes_a_new_directory_keeps_untouched_files_and_prints_a_diff(
        config_dir, tmp_path, capsys):
    before = {p.name: p.read_text() for p in config_dir.iterdir()}
    code = main(["mutate", str(config_dir), "Name the queue jobs", "--model",
                 script(tmp_path, GOOD), *FAST])
    stdout = capsys.readouterr().out
    out = tmp_path / "queue-mutated"
    assert code == 0
    assert {p.name: p.read_text() for p in config_dir.iterdir()} == before
    assert (out / "outputs.tf").read_text() == OUTPUTS
    assert (out / "terraform.tfvars").read_text() == before["terraform.tfvars"]
    assert 'name = "jobs"' in (out / "main.tf").read_text()
    assert "--- a/main.tf\n+++ b/main.tf\n" in stdout
    assert '+  name = "jobs"' in stdout and "outputs.tf" not in stdout.split("---", 1)[1]


def test_mutate_in_place_and_json_diff(config_dir, tmp_path, capsys):
    code = main(["mutate", str(config_dir), "Name the queue jobs", "--in-place", "--json",
                 "--model", script(tmp_path, GOOD), *FAST])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["kind"] == "mutate"
    assert 'name = "jobs"' in (config_dir / "main.tf").read_text()
    assert (config_dir / "outputs.tf").read_text() == OUTPUTS
    assert data["diff"].startswith("--- a/main.tf")
    assert not (tmp_path / "queue-mutated").exists()


def test_a_mutate_reply_without_code_fails_and_deletes_nothing(config_dir, tmp_path, capsys):
    code = main(["mutate", str(config_dir), "Name the queue jobs", "--in-place", "--json",
                 "--turns", "1", "--model", script(tmp_path, "Sorry, I cannot."), *FAST])
    data = json.loads(capsys.readouterr().out)
    assert code == 1 and data["best"]["certificate"]["status"] == "fail"
    assert "diff" not in data and data["written"] == []
    assert sorted(p.name for p in config_dir.iterdir()) == ["main.tf", "outputs.tf",
                                                           "terraform.tfvars"]


def test_mutate_refuses_a_directory_without_terraform(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["mutate", str(tmp_path / "empty"), "x", "--model", "scripted:x"]) == 2
    assert "no .tf" in capsys.readouterr().err
