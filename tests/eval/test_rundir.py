"""The run directory: appends survive a kill, keys count once, a changed command is refused."""

from __future__ import annotations

import json

import pytest

from iacforge.errors import IacforgeError
from iacforge.eval.rundir import RunDir


def line(task: str, sample: int, turn: int, **extra) -> dict:
    return {"task_id": task, "sample": sample, "turn": turn, **extra}


def test_a_line_torn_by_a_kill_is_dropped_when_the_run_is_opened_again(tmp_path):
    run = RunDir.open(tmp_path, {"model": "m"})
    run.append("samples", [line("t", 0, 1, passed=True)])
    with run.file("samples").open("a") as fh:
        fh.write('{"task_id": "t", "sample": 1, "tu')  # the kill came mid-write
    assert list(run.load("samples")) == [("t", 0, 1)]  # a reader skips it too
    again = RunDir.open(tmp_path, {"model": "m"})
    assert again.file("samples").read_text().count("\n") == 1
    again.append("samples", [line("t", 1, 1, passed=False)])
    assert list(again.load("samples")) == [("t", 0, 1), ("t", 1, 1)]


def test_a_key_written_twice_counts_once_and_the_first_line_wins(tmp_path):
    run = RunDir.open(tmp_path, {})
    run.append("replies", [line("t", 0, 1, reply="first"), line("t", 0, 1, reply="second")])
    assert [r["reply"] for r in run.load("replies").values()] == ["first"]


def test_a_damaged_line_inside_the_file_fails_loudly(tmp_path):
    run = RunDir.open(tmp_path, {})
    run.file("samples").write_text('{"task_id": "t", "sample": 0, "turn": 1}\nnot json\n{}\n')
    with pytest.raises(IacforgeError, match=r"samples.jsonl:2: damaged record"):
        run.load("samples")


def test_resuming_with_other_settings_is_refused_and_says_what_changed(tmp_path):
    RunDir.open(tmp_path, {"model": "a", "samples": 5})
    with pytest.raises(IacforgeError, match=r"samples: 5 then, 10 now"):
        RunDir.open(tmp_path, {"model": "a", "samples": 10})


def test_run_json_keeps_identity_and_extra_from_creation(tmp_path):
    RunDir.open(tmp_path, {"model": "a"}, {"tasks": [{"id": "t"}]})
    RunDir.open(tmp_path, {"model": "a"}, {"tasks": "ignored on resume"})
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["identity"] == {"model": "a"} and info["tasks"] == [{"id": "t"}]
    assert info["schema_version"] == 1 and info["created"]


def test_reading_a_folder_that_is_not_a_run(tmp_path):
    with pytest.raises(IacforgeError, match="not an evaluation run"):
        RunDir.read(tmp_path)
