"""Symbolic mutations: what each op changes (the verifier's verdicts: test_synth.py)."""

from __future__ import annotations

from collections import Counter

from iacforge.data.families import FAMILIES
from iacforge.data.synth import mutation_of, mutation_task, spec_for


def _mutations(seeds: range) -> list:
    found = []
    for seed in seeds:
        family = sorted(FAMILIES)[seed % len(FAMILIES)]
        spec, _ = spec_for(family, seed)
        mutation = mutation_of(spec, f"{family}:{seed}", family=family)
        if mutation is not None:
            found.append((family, seed, mutation))
    return found


def test_every_op_occurs_and_changes_the_configuration():
    found = _mutations(range(300))
    ops = Counter(m.op for _, _, m in found)
    assert set(ops) == {"change", "tag", "extend", "remove", "add", "wire"}, ops
    for _, _, mutation in found:
        assert mutation.initial.render() != mutation.target.render()
        assert mutation.request.strip()


def test_ops_that_change_counts_pin_them_in_the_intent():
    for _, _, mutation in _mutations(range(200)):
        if mutation.op in ("add", "remove", "extend"):
            assert "count([r | some r in" in mutation.intent, mutation.op
        else:
            assert "count(" not in mutation.intent, mutation.op


def test_a_mutation_task_starts_from_the_initial_and_names_its_op():
    family, seed, mutation = _mutations(range(5))[0]
    task = mutation_task(mutation, family, seed)
    assert task.kind == "mutate" and task.files == mutation.initial.render()
    assert task.reference == mutation.target.render()
    assert task.source == f"synth:{family}:{seed}:{mutation.op}"
