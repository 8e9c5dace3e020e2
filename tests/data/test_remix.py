"""Configurations read back into specs (schema-driven), and mutation tasks made from any task."""

from __future__ import annotations

from pathlib import Path

from iacforge.data.families import FAMILIES
from iacforge.data.from_hcl import spec_from_files
from iacforge.data.loaders import load_tasks
from iacforge.data.remix import remix, spec_of
from iacforge.data.spec import Spec
from iacforge.data.synth import generation_task

BENCH = Path(__file__).parents[1] / "fixtures" / "iac_eval_mini.csv"


def test_a_rendered_spec_reads_back_to_the_same_blocks(schema):
    for i in range(60):
        task, spec = generation_task(sorted(FAMILIES)[i % len(FAMILIES)], i)
        back = spec_from_files(task.reference, schema)
        assert back is not None, task.id
        # the same blocks, each rendered alone (data blocks may come back in another order)
        assert _blocks(back) == _blocks(spec), task.id
        assert back.region == spec.region


def _blocks(spec: Spec) -> dict[str, str]:
    return {r.address: Spec((r,)).render()["main.tf"] for r in spec.resources}


def test_what_a_spec_cannot_stand_for_is_refused(schema):
    refused = {
        "variables": 'variable "n" {\n  default = "x"\n}\nresource "aws_sqs_queue" "q" {\n'
                     "  name = var.n\n}\n",
        "count": 'resource "aws_sqs_queue" "q" {\n  count = 2\n}\n',
        "unknown argument": 'resource "aws_sqs_queue" "q" {\n  nmae = "x"\n}\n',
        "other provider": 'resource "random_id" "r" {\n  byte_length = 4\n}\n',
    }
    for why, text in refused.items():
        assert spec_from_files({"main.tf": text}, schema) is None, why


def test_mutations_are_made_from_benchmark_and_synthesized_tasks():
    bench = load_tasks(BENCH)
    made = [m for _, m in remix(bench) if m is not None]
    assert len(made) >= 4
    for mutation in made:
        assert mutation.kind == "mutate" and mutation.files != mutation.reference
        assert mutation.id.startswith("iac-eval-") and "-mut0-" in mutation.id
    task, spec = generation_task("sqs", 5)
    assert spec_of(task) == spec  # made again from the seed, not parsed
    ((source, mutation),) = list(remix([task]))
    assert source is task and mutation is not None and mutation.source.startswith("synth:sqs:5:")
