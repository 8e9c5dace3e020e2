"""Train/test splits that keep resource-family combinations apart.

A task's combination is the sorted set of the families of the resources it starts from:
a generation task's resources, a mutation's initial configuration's (`s3+kms`), so a
mutation sits on the same side as the generation task whose reference it starts from. Whole
combinations go to the test split, in a seeded random order, until it holds about
`test_fraction` of the tasks; no combination is on both sides.

>>> tasks = [Task(f"t{i}", "generate", "x", resources=(r,)) for i, r in
...          enumerate(["aws_s3_bucket", "aws_vpc", "aws_sqs_queue", "aws_s3_bucket"])]
>>> train, test = split(tasks, test_fraction=0.25, seed=0)
>>> {combination(t) for t in train}.isdisjoint({combination(t) for t in test})
True
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from random import Random

from iacforge.data.task import Task, resource_family

_RESOURCE = re.compile(r'^\s*resource\s+"([A-Za-z0-9_]+)"', re.M)


def combination(task: Task) -> str:
    """The families of the resources the task starts from, sorted and joined (`kms+s3`)."""
    if task.kind == "mutate":
        types = {t for text in task.files.values() for t in _RESOURCE.findall(text)}
    else:
        types = set(task.resources)
    return "+".join(sorted({resource_family((t,)) for t in types}) or ["other"])


def split(tasks: Sequence[Task], *, test_fraction: float = 0.1, seed: int = 0
          ) -> tuple[list[Task], list[Task]]:
    """(train, test), each in input order."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be between 0 and 1, not {test_fraction}")
    sizes = Counter(combination(t) for t in tasks)
    groups = sorted(sizes)
    Random(seed).shuffle(groups)
    target, chosen, taken = test_fraction * len(tasks), set(), 0
    for group in groups:
        if taken >= target:
            break
        if taken + sizes[group] <= 1.5 * target or not chosen:
            chosen.add(group)
            taken += sizes[group]
    test = [t for t in tasks if combination(t) in chosen]
    train = [t for t in tasks if combination(t) not in chosen]
    return train, test
