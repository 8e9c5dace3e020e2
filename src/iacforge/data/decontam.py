"""Decontamination: drop tasks that overlap a benchmark by word n-grams, in prompt or code.

A task is contaminated when at least `threshold` of its prompt's n-grams, or of its code's
n-grams, occur in the benchmark's prompts (or code). Code is compared without the terraform
and provider blocks (every configuration shares them), and both sides are lower-cased token
streams (see `iacforge.data.dedup.tokens`). Written here rather than taken from a library
because the rule is these few lines and must know what Terraform boilerplate is.

>>> bench = [Task("b", "generate", "Create a VPC with CIDR 10.0.0.0/16 and two public subnets")]
>>> mine = [Task("m", "generate", "create a vpc with cidr 10.0.0.0/16 and two public subnets")]
>>> [c.task.id for c in Decontaminator(bench, n=5).contaminated(mine)]
['m']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from iacforge.data.dedup import code_text, tokens
from iacforge.data.task import Task


@dataclass(frozen=True)
class Contamination:
    """A contaminated task, and the share of its prompt and code n-grams the benchmark has."""

    task: Task
    prompt_overlap: float
    code_overlap: float


def ngrams(words: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def _code(task: Task) -> list[str]:
    return tokens(code_text(task.files)) + tokens(code_text(task.reference))


class Decontaminator:
    """The n-grams of a benchmark, to test tasks against.

    Args:
        benchmark: the benchmark's tasks (IaC-Eval CSV, JSONL …, loaded by `load_tasks`).
        n: prompt n-gram length in words; code uses `2 * n` tokens (code tokens are shorter).
        threshold: the share of a task's n-grams that makes it contaminated.
    """

    def __init__(self, benchmark: Iterable[Task], *, n: int = 8, threshold: float = 0.5) -> None:
        self.n, self.threshold = n, threshold
        self.prompts: set[tuple[str, ...]] = set()
        self.code: set[tuple[str, ...]] = set()
        for task in benchmark:
            self.prompts |= ngrams(tokens(task.prompt), n)
            self.code |= ngrams(_code(task), 2 * n)

    def overlap(self, task: Task) -> tuple[float, float]:
        """(prompt overlap, code overlap) of one task, each 0 … 1."""
        return (_share(ngrams(tokens(task.prompt), self.n), self.prompts),
                _share(ngrams(_code(task), 2 * self.n), self.code))

    def contaminated(self, tasks: Iterable[Task]) -> list[Contamination]:
        found = []
        for task in tasks:
            prompt, code = self.overlap(task)
            if max(prompt, code) >= self.threshold:
                found.append(Contamination(task, prompt, code))
        return found


def _share(mine: set[tuple[str, ...]], theirs: set[tuple[str, ...]]) -> float:
    return len(mine & theirs) / len(mine) if mine else 0.0
