"""Loaders on the IaC-Eval-format fixture, the project's JSONL/Parquet, and dataset folders."""

from __future__ import annotations

import csv
import importlib
import json
from pathlib import Path

import pytest

from iacforge.data import IAC_EVAL_COLUMNS, Task, load_tasks, save_tasks
from iacforge.errors import IacforgeError
from iacforge.verify.intent_policy import IntentPolicy

FIXTURE = Path(__file__).parents[1] / "fixtures" / "iac_eval_mini.csv"


@pytest.fixture
def arrow():
    """pyarrow (with its ipc, json and parquet modules), or a skip: CSV and JSONL need none."""
    pa = pytest.importorskip("pyarrow", reason="Parquet and Arrow task files need pyarrow")
    for module in ("ipc", "json", "parquet"):
        importlib.import_module(f"pyarrow.{module}")
    return pa


@pytest.fixture(scope="module")
def tasks() -> list[Task]:
    return load_tasks(FIXTURE)


def iac_eval_rows() -> list[dict[str, str]]:
    with FIXTURE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_fixture_loads_as_six_generation_tasks(tasks):
    assert len(tasks) == 6 and {t.kind for t in tasks} == {"generate"}
    assert [t.difficulty for t in tasks] == ["1", "2", "2", "3", "3", "4"]
    assert [t.family for t in tasks] == ["s3", "vpc", "iam", "sqs", "sns", "rds"]
    assert tasks[1].resources == ("aws_vpc", "aws_subnet", "aws_internet_gateway")
    assert all(t.id.startswith("iac-eval-") and t.intent and t.description for t in tasks)
    assert [t.source for t in tasks][:2] == ["iac_eval_mini.csv:1", "iac_eval_mini.csv:2"]


def test_references_become_files_and_intents_keep_their_rego_version(tasks):
    assert all(list(t.reference) == ["main.tf"] for t in tasks)
    assert 'bucket = "iacforge-mini-logs"' in tasks[0].reference["main.tf"]
    assert [IntentPolicy(t.intent).v1 for t in tasks] == [True, False, False, True, True, False]


def test_ids_do_not_depend_on_row_order_or_file_format(tasks, tmp_path, arrow):
    rows = iac_eval_rows()[::-1]
    shuffled = tmp_path / "shuffled.csv"
    with shuffled.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(IAC_EVAL_COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    assert [t.id for t in load_tasks(shuffled)] == [t.id for t in tasks][::-1]
    parquet = tmp_path / "test-00000-of-00001.parquet"
    arrow.parquet.write_table(arrow.Table.from_pylist(iac_eval_rows()), parquet)
    assert [(t.id, t.reference) for t in load_tasks(parquet)] == [
        (t.id, t.reference) for t in tasks]


def test_jsonl_round_trip(tasks, tmp_path):
    mutate = Task("mut-1", "mutate", "Add versioning.", files={"main.tf": "locals {}\n"})
    path = save_tasks([*tasks, mutate], tmp_path / "tasks.jsonl")
    assert load_tasks(path) == [*tasks, mutate]


def test_pyarrow_json_reads_task_jsonl_as_is(tasks, tmp_path, arrow):
    mutate = Task("mut-1", "mutate", "Add versioning.", files={"main.tf": "locals {}\n"})
    path = save_tasks([*tasks, mutate], tmp_path / "tasks.jsonl")
    table = arrow.json.read_json(path)  # the reader behind load_dataset("json")
    assert table.column_names == list(json.loads(path.read_text().splitlines()[0]))
    assert table.num_rows == 7
    assert str(table.schema.field("files").type) == (
        "list<item: struct<name: string, text: string>>")


def test_parquet_round_trip_with_a_fixed_schema(tasks, tmp_path, arrow):
    path = save_tasks(tasks, tmp_path / "tasks.parquet")
    assert load_tasks(path) == tasks
    assert arrow.parquet.read_schema(path).field("difficulty").type == arrow.string()


def test_a_saved_dataset_folder_and_its_splits(tasks, tmp_path, arrow):
    # `datasets.save_to_disk` of a DatasetDict: one folder per split, Arrow IPC streams
    for split, part in (("train", tasks[:4]), ("test", tasks[4:])):
        folder = tmp_path / "saved" / split
        folder.mkdir(parents=True)
        (folder / "state.json").write_text("{}")
        table = arrow.Table.from_pylist([t.to_record() for t in part])
        with arrow.OSFile(str(folder / "data-00000-of-00001.arrow"), "wb") as sink, \
                arrow.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
    assert [t.id for t in load_tasks(tmp_path / "saved", split="test")] == [
        t.id for t in tasks[4:]]
    assert len(load_tasks(tmp_path / "saved")) == 6
    with pytest.raises(IacforgeError, match="split 'validation'"):
        load_tasks(tmp_path / "saved", split="validation")


def test_a_snapshot_folder_with_split_named_files(tasks, tmp_path, arrow):
    (tmp_path / "data").mkdir()
    for split, rows in (("test", iac_eval_rows()[:2]), ("train", iac_eval_rows()[2:])):
        arrow.parquet.write_table(arrow.Table.from_pylist(rows),
                                  tmp_path / "data" / f"{split}-00000-of-00001.parquet")
    assert [t.id for t in load_tasks(tmp_path, split="test")] == [t.id for t in tasks[:2]]


def test_a_pandas_export_difficulty_and_missing_reference(tmp_path):
    path = tmp_path / "exported.csv"
    path.write_text(",Resource,Prompt,Rego intent,Difficulty,Reference output,Intent\n"
                    "0,aws_sqs_queue,A queue.,package p,3.0,,\n", encoding="utf-8")
    (task,) = load_tasks(path)
    assert (task.difficulty, task.reference, task.description) == ("3", {}, None)


@pytest.mark.parametrize(("name", "text", "message"), [
    ("bad.csv", "Resource,Prompt\naws_vpc,A VPC.\n", "missing column"),
    ("bad.jsonl", '{"id": "a", "prompt": "p"}\n{"id": \n', r"bad.jsonl:2: not JSON"),
    ("dup.jsonl", '{"id": "a", "prompt": "p"}\n{"id": "a", "prompt": "q"}\n', "appears twice"),
    ("odd.jsonl", '{"title": "x"}\n', "neither an IaC-Eval row"),
    ("empty.jsonl", "\n", "holds no tasks"),
    ("tasks.yaml", "- id: a\n", "cannot read tasks"),
])
def test_bad_task_files_fail_loudly_with_file_and_line(tmp_path, name, text, message):
    (tmp_path / name).write_text(text, encoding="utf-8")
    with pytest.raises(IacforgeError, match=message):
        load_tasks(tmp_path / name)


def test_missing_path_and_unwritable_format(tmp_path, tasks):
    with pytest.raises(IacforgeError, match="does not exist"):
        load_tasks(tmp_path / "nope.csv")
    with pytest.raises(IacforgeError, match=r"\.jsonl or \.parquet"):
        save_tasks(tasks, tmp_path / "tasks.csv")
