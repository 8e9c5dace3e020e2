"""Dedup and decontamination catch planted duplicates and leave distinct tasks alone."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from iacforge.data.decontam import Decontaminator
from iacforge.data.dedup import dedup
from iacforge.data.families import FAMILIES
from iacforge.data.loaders import load_tasks
from iacforge.data.synth import generation_task

BENCH = Path(__file__).parents[1] / "fixtures" / "iac_eval_mini.csv"


def _tasks(n: int) -> list:
    names = sorted(FAMILIES)
    return [generation_task(names[i % len(names)], i)[0] for i in range(n)]


def test_planted_exact_and_near_duplicates_are_removed_and_distinct_tasks_kept():
    tasks = _tasks(60)
    exact = dataclasses.replace(tasks[3], id="copy-exact", prompt="  " + tasks[3].prompt.upper())
    reference = {k: v.replace("\n", "\n\n") for k, v in tasks[3].reference.items()}
    exact = dataclasses.replace(exact, reference=reference)
    near_prompt = tasks[7].prompt.rsplit(" ", 1)[0] + " please."
    near = dataclasses.replace(tasks[7], id="copy-near", prompt=near_prompt)
    result = dedup([*tasks, exact, near])
    assert result.exact == {"copy-exact": tasks[3].id}
    assert result.near == {"copy-near": tasks[7].id}
    assert [t.id for t in result.kept] == [t.id for t in tasks]


def test_exact_only_mode_keeps_near_duplicates():
    tasks = _tasks(5)
    near = dataclasses.replace(tasks[1], id="n", prompt=tasks[1].prompt + " Thanks.")
    assert len(dedup([*tasks, near], near=False).kept) == 6


def test_tasks_overlapping_the_benchmark_prompt_or_code_are_found():
    bench = load_tasks(BENCH)
    reworded = dataclasses.replace(_tasks(1)[0], id="leak-prompt",
                                   prompt=bench[1].prompt.lower().replace(",", " ,"))
    copied = dataclasses.replace(_tasks(2)[1], id="leak-code", reference=bench[0].reference)
    # families the benchmark fixture has no task of (its IAM role task is the canonical
    # Lambda role, which synthesized IAM tasks rightly overlap)
    clean = [generation_task(f, s)[0] for f in ("dynamodb", "ecr", "kms", "route53",
                                                "cloudwatch") for s in range(8)]
    found = Decontaminator(bench).contaminated([*clean, reworded, copied])
    assert {c.task.id: (c.prompt_overlap >= 0.5, c.code_overlap >= 0.5) for c in found} == {
        "leak-prompt": (True, False), "leak-code": (False, True)}


def test_dedup_against_several_benchmarks_removes_leaks_of_each_and_names_the_source(
        tmp_path, capsys):
    from iacforge.cli import main
    from iacforge.data.loaders import save_tasks

    bench = load_tasks(BENCH)
    other = save_tasks([dataclasses.replace(_tasks(1)[0], id="other-bench",
                                            prompt="Provision a bastion host behind a NAT "
                                                   "gateway with session manager access only "
                                                   "and no inbound ports at all")],
                       tmp_path / "other.jsonl")
    clean = [generation_task(f, s)[0] for f in ("dynamodb", "ecr", "kinesis", "efs")
             for s in range(3)]
    leak_a = dataclasses.replace(clean[0], id="leak-a", prompt=bench[1].prompt)
    leak_b = dataclasses.replace(clean[1], id="leak-b", prompt=load_tasks(other)[0].prompt)
    tasks = save_tasks([*clean, leak_a, leak_b], tmp_path / "tasks.jsonl")
    out = tmp_path / "kept.jsonl"
    assert main(["data", "dedup", str(tasks), "--out", str(out), "--against", str(BENCH),
                 str(other)]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["contaminated"] == 2
    assert counts["against"] == {str(BENCH): 1, str(other): 1}
    removed = {r["id"]: r["against"] for r in map(json.loads, (tmp_path / "kept.removed.jsonl")
                                                   .read_text().splitlines())
               if r["reason"] == "contaminated"}
    assert removed == {"leak-a": str(BENCH), "leak-b": str(other)}
    # the flag repeated means the same
    assert main(["data", "dedup", str(tasks), "--out", str(out), "--against", str(BENCH),
                 "--against", str(other)]) == 0
    assert json.loads(capsys.readouterr().out)["against"] == counts["against"]
