"""Mutation tasks from existing tasks: read each reference back into a spec and edit it.

A synthesized task's spec is made again from its seed (and checked to render to the same
reference); any other task's reference is read with `spec_from_files`, which refuses what a
spec cannot stand for. A mutation's initial files are the spec rendered again (the same
blocks, `terraform fmt` layout), so initial and target differ only by the edit. Verification
is the caller's (`synth.verify_mutations`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from iacforge.data.from_hcl import spec_from_files
from iacforge.data.schema import provider_schema
from iacforge.data.spec import Spec
from iacforge.data.synth import difficulty, mutation_of, spec_for
from iacforge.data.task import Task


def spec_of(task: Task) -> Spec | None:
    """The spec of a task's reference configuration, or None when there is none."""
    if not task.reference:
        return None
    parts = task.source.split(":")
    if len(parts) == 3 and parts[0] == "synth" and parts[2].isdigit():
        try:
            spec, _ = spec_for(parts[1], int(parts[2]))
        except KeyError:
            spec = None
        if spec is not None and spec.render() == task.reference:
            return spec
    return spec_from_files(task.reference, provider_schema())


def remix(tasks: Iterable[Task], *, rounds: int = 1) -> Iterator[tuple[Task, Task | None]]:
    """For each generation task and round: (the task, a mutation task or None)."""
    for task in tasks:
        if task.kind != "generate":
            continue
        spec = spec_of(task)
        for round_ in range(rounds):
            found = mutation_of(spec, f"remix:{task.id}:{round_}") if spec else None
            if found is None:
                yield task, None
                continue
            yield task, Task(
                id=f"{task.id}-mut{round_}-{found.op}", kind="mutate", prompt=found.request,
                files=found.initial.render(), intent=found.intent,
                reference=found.target.render(), difficulty=difficulty(found.target),
                resources=found.target.types, source=f"{task.source}:mut{round_}:{found.op}",
                description=f"mutation: {found.op}")
