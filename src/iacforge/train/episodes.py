"""Roll out repair episodes as trees: attempts, certificates, feedback, repairs.

Turn 1 samples `group` replies to each task's first prompt. Every attempt that fails, while
turns are left, becomes a repair prompt (the first prompt, its reply, the certificate's
feedback — the `iacforge generate` loop's `repair_prompt`) sampled `branch` times: its
children. `branch=1` gives GTPO's G independent chains; `branch>1` Murphy's tree. Each level
of all tasks is one `Backend.generate` call and one batched verification: the turn step of
`iacforge generate` (`turn_sampling`, `judge_replies`, `repair_messages`).

A reward of None (the verifier could not judge) counts as 0 here: the attempt is kept so its
group stays whole, and nothing in it was credited as a pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from iacforge.certificate import Certificate
from iacforge.data.task import Task
from iacforge.generate import Judge, judge_replies, repair_messages, turn_sampling
from iacforge.llm.base import Backend, Messages, Sampling
from iacforge.reward import reward
from iacforge.train.advantages import Node
from iacforge.train.data import prompt_of


@dataclass(frozen=True)
class Turn:
    """One attempt: the prompt it answered, the reply, and the verdict."""

    task: Task
    turn: int
    prompt: Messages
    reply: str
    certificate: Certificate
    #: The reply held at least one named code block.
    formatted: bool

    @property
    def passed(self) -> bool:
        return self.certificate.passed


def rollout(backend: Backend, judge: Judge, tasks: Sequence[Task], *, group: int, branch: int,
            turns: int, sampling: Sampling) -> list[list[Node]]:
    """For each task, its root group of attempt nodes (children hang below them)."""
    roots: list[list[Node]] = [[] for _ in tasks]
    # what to sample at this level: (task index, prompt, how many, the list the nodes join)
    todo = [(i, prompt_of(t), group, roots[i]) for i, t in enumerate(tasks)]
    for turn in range(1, turns + 1):
        if not todo:
            break
        replies = backend.generate([p for _, p, _, _ in todo], max(n for *_, n, _ in todo),
                                   turn_sampling(sampling, turn))
        made: list[tuple[int, Messages, str, list[Node]]] = [
            (i, prompt, text, siblings)
            for (i, prompt, n, siblings), texts in zip(todo, replies, strict=True)
            for text in texts[:n]]
        candidates, certs = judge_replies(judge, [tasks[i].request() for i, *_ in made],
                                          [text for _, _, text, _ in made],
                                          [f"turn {turn}"] * len(made))
        todo = []
        for (i, prompt, text, siblings), cand, cert in zip(made, candidates, certs, strict=True):
            value = reward(cert)
            node = Node(0.0 if value is None else value, payload=Turn(
                tasks[i], turn, prompt, text, cert, bool(cand.files)))
            siblings.append(node)
            if not cert.passed and turn < turns:
                todo.append((i, repair_messages(prompt_of(tasks[i]), text, cert),
                             branch, node.children))
    return roots


def chains(root_group: list[Node]) -> list[list[Node]]:
    """The episodes of a `branch=1` tree: each root and its line of repairs."""
    out = []
    for node in root_group:
        line = [node]
        while line[-1].children:
            line.append(line[-1].children[0])
        out.append(line)
    return out


def all_nodes(root_group: list[Node]) -> list[Node]:
    """Every node of a tree, breadth first."""
    out, level = [], list(root_group)
    while level:
        out += level
        level = [c for n in level for c in n.children]
    return out
