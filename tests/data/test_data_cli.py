"""The data CLI end to end without terraform: dedup, split, stats, and `datasets` loading."""

from __future__ import annotations

import dataclasses
import inspect
import json

import pytest

from iacforge.cli import build_parser, main
from iacforge.data.curate import Curator
from iacforge.data.decontam import Decontaminator
from iacforge.data.dedup import dedup
from iacforge.data.families import FAMILIES
from iacforge.data.loaders import load_tasks, save_tasks
from iacforge.data.remix import remix
from iacforge.data.split import split
from iacforge.data.synth import Synthesizer, generation_task, mutation_of, mutation_task


@pytest.fixture
def task_file(tmp_path):
    names = sorted(FAMILIES)
    tasks = []
    for i in range(60):
        task, spec = generation_task(names[i % len(names)], i)
        tasks.append(task)
        found = mutation_of(spec, f"{names[i % len(names)]}:{i}", family=names[i % len(names)])
        if found is not None and i % 3 == 0:
            tasks.append(mutation_task(found, names[i % len(names)], i))
    tasks.append(dataclasses.replace(tasks[0], id="planted-copy"))
    # generation tasks first, as `dedup` writes a concatenation: `split` must interleave them
    # for `datasets`' type inference
    tasks.sort(key=lambda t: t.kind)
    return save_tasks(tasks, tmp_path / "all.jsonl")


def test_dedup_split_stats_write_files_datasets_loads(task_file, tmp_path, capsys):
    assert main(["data", "dedup", str(task_file), "--out", str(tmp_path / "kept.jsonl")]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["exact"] == 1 and counts["kept"] == counts["input"] - 1 - counts["near"]
    removed = (tmp_path / "kept.removed.jsonl").read_text()
    assert '"planted-copy"' in removed
    out = tmp_path / "final"
    assert main(["data", "split", str(tmp_path / "kept.jsonl"), "--out", str(out),
                 "--test-fraction", "0.2"]) == 0
    sizes = json.loads(capsys.readouterr().out)
    assert sizes["train"] > 0 and sizes["test"] > 0
    assert main(["data", "stats", str(out), "--name", "synth-mini"]) == 0
    stats = json.loads(capsys.readouterr().out)
    card = (out / "README.md").read_text()
    assert card.startswith("---\nconfigs:") and "# synth-mini" in card
    assert stats["tasks"] == counts["kept"] and stats["kinds"]["mutate"] > 0
    datasets = pytest.importorskip("datasets")
    loaded = datasets.load_dataset("json", data_files={"train": str(out / "train.jsonl"),
                                                       "test": str(out / "test.jsonl")})
    assert loaded["train"].num_rows == sizes["train"]
    assert loaded["test"][0]["files"] is not None
    assert len(load_tasks(out / "train.jsonl")) == sizes["train"]


def test_every_writers_output_loads_with_datasets(tmp_path, capsys):
    """Synth's files (generation-only and mutation-only), dedup, split, stats and the logs.

    A generation-only file has `files: []` and `description: null` in every row: JSON alone
    cannot type them, and loading it beside mutation rows failed to cast.
    """
    datasets = pytest.importorskip("datasets")
    from iacforge.data.synth import Synthesizer
    from iacforge.data.task import task_features
    from iacforge.verify.pipeline import Verifier

    synth = tmp_path / "synth"
    # parse-only verification: generation tasks are written, mutations (needing a plan) rejected
    counts = Synthesizer(synth, Verifier(stages=["parse"]), families=sorted(FAMILIES)[:3]).run(
        3, 1, chunk=3)
    made = counts.generate + 4  # and four mutations below, one a copy
    assert counts.generate >= 3 and sum(counts.rejected.values()) >= 1
    mutations = [mutation_task(m, "sqs", seed) for seed in range(40)
                 if (m := mutation_of(generation_task("sqs", seed)[1], f"sqs:{seed}",
                                      family="sqs")) is not None][:3]
    save_tasks([*mutations, dataclasses.replace(mutations[0], id="planted-copy")],
               synth / "mutate.jsonl")
    out = tmp_path / "final"
    assert main(["data", "dedup", str(synth / "generate.jsonl"), str(synth / "mutate.jsonl"),
                 "--out", str(tmp_path / "kept.jsonl")]) == 0
    assert main(["data", "split", str(tmp_path / "kept.jsonl"), "--out", str(out),
                 "--test-fraction", "0.3", "--parquet"]) == 0
    assert main(["data", "stats", str(out)]) == 0
    capsys.readouterr()
    cache = str(tmp_path / "hf")

    def rows(files: list, **kw) -> int:
        return datasets.load_dataset("json", data_files=[str(f) for f in files], split="train",
                                     cache_dir=cache, **kw).num_rows

    typed = task_features()
    assert rows([synth / "generate.jsonl", synth / "mutate.jsonl"], features=typed) == made
    assert rows([synth / "generate.jsonl"], features=typed) == counts.generate
    kept = rows([tmp_path / "kept.jsonl"], features=typed)
    assert rows([out / "train.jsonl", out / "test.jsonl"], features=typed) == kept
    assert rows([synth / "rejected.jsonl"]) == sum(counts.rejected.values())
    assert rows([tmp_path / "kept.removed.jsonl"]) == made - kept
    parquet = datasets.load_dataset("parquet", data_files=[str(out / "train.parquet"),
                                                           str(out / "test.parquet")],
                                    split="train", cache_dir=cache)
    assert parquet.features == typed
    # the folder, as the Hub would load it: the card's dataset_info types every column
    folder = datasets.load_dataset(str(out), cache_dir=cache)
    assert folder["train"].features == typed
    assert sum(split.num_rows for split in folder.values()) == kept


def _default(function, name: str):
    return inspect.signature(function).parameters[name].default


@pytest.mark.parametrize(("argv", "flag", "function", "name"), [
    (["synth", "--out", "o"], "chunk", Synthesizer.run, "chunk"),
    (["synth", "--out", "o"], "start", Synthesizer.run, "start"),
    (["mutate", "t", "--out", "o"], "rounds", remix, "rounds"),
    (["dedup", "t", "--out", "o"], "threshold", dedup, "threshold"),
    (["dedup", "t", "--out", "o"], "ngram", Decontaminator.__init__, "n"),
    (["dedup", "t", "--out", "o"], "overlap", Decontaminator.__init__, "threshold"),
    (["split", "t", "--out", "o"], "test_fraction", split, "test_fraction"),
    (["split", "t", "--out", "o"], "seed", split, "seed"),
    (["curate", "m", "--out", "o"], "turns", Curator.__init__, "turns"),
])
def test_the_cli_defaults_are_the_library_defaults(argv, flag, function, name):
    """The data steps' flags default to what the functions they call default to."""
    args = build_parser().parse_args(["data", *argv])
    assert getattr(args, flag) == _default(function, name)
