"""The synthesizer through the real verifier: every generation task it writes passes its own
intent, every mutation's intent passes on its target and fails on its initial configuration
(each kind of edit included), and a rerun resumes without redoing work."""

from __future__ import annotations

import json

import pytest

from iacforge.candidate import Candidate
from iacforge.data.families import FAMILIES
from iacforge.data.loaders import load_tasks
from iacforge.data.synth import Synthesizer, mutation_of, mutation_task, spec_for
from iacforge.formal import FORMAL_STAGES
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import verify_all

SAMPLE = ("s3", "ec2", "iam", "rds")


def one_mutation_per_op() -> dict:
    found = {}
    for seed in range(400):  # `wire` is the rarest edit: the first one is at seed 295
        family = sorted(FAMILIES)[seed % len(FAMILIES)]
        mutation = mutation_of(spec_for(family, seed)[0], f"{family}:{seed}", family=family)
        if mutation is not None:
            found.setdefault(mutation.op, mutation_task(mutation, family, seed))
    return found


@pytest.mark.slow
def test_synthesized_tasks_pass_their_intent_and_mutations_fail_on_their_initial(tmp_path):
    verifier = Verifier(stages=FORMAL_STAGES)
    counts = Synthesizer(tmp_path, verifier, families=SAMPLE).run(4, 1, chunk=4)
    assert (counts.generate, sum(counts.rejected.values())) == (4, 0)
    assert counts.mutate >= 1
    generated = load_tasks(tmp_path / "generate.jsonl")
    assert {t.source.split(":")[1] for t in generated} == set(SAMPLE)
    ops = one_mutation_per_op()
    assert set(ops) == {"change", "tag", "extend", "remove", "add", "wire"}
    mutations = load_tasks(tmp_path / "mutate.jsonl") + list(ops.values())
    # one batched verification for everything: references (generation and mutation targets)
    # must pass; initial configurations must plan and fail their mutation's intent
    candidates = [Candidate(t.reference) for t in generated + mutations]
    candidates += [Candidate(t.files) for t in mutations]
    intents = [IntentPolicy(t.intent) for t in generated + mutations + mutations]
    certs = verify_all(candidates, intents, verifier=verifier)
    targets, initials = certs[:len(generated) + len(mutations)], certs[-len(mutations):]
    assert [c.status for c in targets] == ["pass"] * len(targets)
    assert [(c.stage("plan").status, c.stage("intent").status) for c in initials] == [
        ("pass", "fail")] * len(mutations)
    before = {p.name: p.read_text() for p in tmp_path.glob("*.jsonl")}
    again = Synthesizer(tmp_path, verifier, families=SAMPLE).run(4, 1, chunk=4)
    assert (again.generate, again.mutate) == (counts.generate, counts.mutate)
    assert {p.name: p.read_text() for p in tmp_path.glob("*.jsonl")} == before
    assert json.loads((tmp_path / "synth.json").read_text())["generate"] == 4
