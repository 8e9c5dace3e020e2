"""Splits keep resource-family combinations apart and mutations beside their source."""

from __future__ import annotations

import pytest

from iacforge.data.families import FAMILIES
from iacforge.data.split import combination, split
from iacforge.data.synth import generation_task, mutation_of, mutation_task


def _tasks() -> list:
    names = sorted(FAMILIES)
    tasks = []
    for i in range(150):
        family = names[i % len(names)]
        task, spec = generation_task(family, i)
        tasks.append(task)
        mutation = mutation_of(spec, f"{family}:{i}", family=family)
        if mutation is not None:
            tasks.append(mutation_task(mutation, family, i))
    return tasks


def test_no_combination_is_on_both_sides_and_the_test_share_is_near_the_target():
    tasks = _tasks()
    train, test = split(tasks, test_fraction=0.2, seed=3)
    assert len(train) + len(test) == len(tasks)
    assert {combination(t) for t in train}.isdisjoint({combination(t) for t in test})
    assert 0.1 <= len(test) / len(tasks) <= 0.35


def test_a_mutation_is_on_the_side_of_the_generation_task_it_starts_from():
    tasks = _tasks()
    train, test = split(tasks, test_fraction=0.2, seed=3)
    side = {t.id: "train" for t in train} | {t.id: "test" for t in test}
    by_reference = {tuple(sorted(t.reference.items())): t.id for t in tasks
                    if t.kind == "generate"}
    pairs = [(by_reference[tuple(sorted(t.files.items()))], t.id) for t in tasks
             if t.kind == "mutate" and tuple(sorted(t.files.items())) in by_reference]
    assert pairs
    assert all(side[a] == side[b] for a, b in pairs)


def test_the_same_seed_gives_the_same_split_and_bad_fractions_are_refused():
    tasks = _tasks()[:60]
    assert split(tasks, seed=1) == split(tasks, seed=1)
    with pytest.raises(ValueError, match="between 0 and 1"):
        split(tasks, test_fraction=1.0)
    assert "s3" in combination(generation_task("s3", 0)[0]).split("+")
