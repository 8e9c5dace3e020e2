r"""Turn-level credit for multi-turn repair episodes: GTPO returns and Murphy trees.

An episode for one task is the repair loop: attempt 1, the verifier's certificate, its feedback
as the next prompt, attempt 2, ... up to k turns or a pass. Each attempt j is judged by the
verifier; R(c_j) is its reward on TerraFormer's scale (0 / 0.5 / 1 + k/n, `iacforge.reward`).

GTPO (group turn-level policy optimisation). A group is G independent episodes of one task.
Turn j of an episode earns

    r_j = w_f·f_j + max(0, R(c_j) − R(c_{j−1}))     for j < J   (format + stage progress)
    r_J = w_f·f_J + R(c_J)                            on the last turn (the outcome)

with f_j = 1 when the reply held at least one named code block (`Candidate.files` not empty),
R(c_0) = 0 and w_f = 0.1. The return of turn j is the discounted sum of what follows it,

    R_j = Σ_{m ≥ j} γ^{m−j} r_m        (γ = 0.9 by default),

and the advantage of turn j is its return normalised over every turn of every episode in the
group: A_j = (R_j − mean) / (std + ε), mean and std over the group's turns (population std).

Murphy. For each task, a root group of G attempts from the first prompt. Every attempt that
fails (and is not at the last turn) is expanded: its reply and certificate feedback become a
repair prompt, sampled `branch` times; those children form a group of their own, one turn
deeper. Credit flows back from the leaves:

    v(n) = R(c_n)                                      n not expanded (passed, or a leaf)
    v(n) = max(R(c_n), max_{c ∈ children(n)} v(c))     MaRS (max reward strategy)
    v(n) = max(R(c_n), mean_{c ∈ children(n)} v(c))    MeRS (mean reward strategy)

so a failed attempt whose feedback led to a fix is credited with the fix. Advantages are
normalised within each group of siblings: A_n = (v(n) − mean_g v) / (std_g v + ε). With pruning,
groups whose values have std below `min_std` carry no signal and are dropped (their attempts
get no advantage and no gradient).

Both estimators give one advantage per attempt; the trainer (`train.multiturn`) weighs every
token of an attempt's reply by it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Credit = Literal["max", "mean"]
#: Weight of the format term in GTPO's per-turn reward.
FORMAT_WEIGHT = 0.1
EPS = 1e-6


def turn_rewards(rewards: Sequence[float], formatted: Sequence[bool],
                 format_weight: float = FORMAT_WEIGHT) -> list[float]:
    """GTPO's r_j for one episode from the verifier rewards R(c_j) and the format flags f_j."""
    out, previous = [], 0.0
    last = len(rewards) - 1
    for j, (value, ok) in enumerate(zip(rewards, formatted, strict=True)):
        shaped = value if j == last else max(0.0, value - previous)
        out.append(format_weight * float(ok) + shaped)
        previous = value
    return out


def discounted_returns(rewards: Sequence[float], gamma: float = 0.9) -> list[float]:
    """R_j = Σ_{m≥j} γ^{m−j} r_m for one episode."""
    out: list[float] = []
    running = 0.0
    for value in reversed(rewards):
        running = value + gamma * running
        out.append(running)
    return out[::-1]


def normalise(values: Sequence[float]) -> list[float]:
    """(v − mean) / (std + ε), population std; all zeros when the values are all equal."""
    if not values:
        return []
    mean = sum(values) / len(values)
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
    return [(v - mean) / (std + EPS) for v in values]


def gtpo_advantages(episodes: Sequence[Sequence[float]], formatted: Sequence[Sequence[bool]],
                    gamma: float = 0.9,
                    format_weight: float = FORMAT_WEIGHT) -> list[list[float]]:
    """Per-turn advantages for a group of episodes (each a list of verifier rewards)."""
    returns = [discounted_returns(turn_rewards(r, f, format_weight), gamma)
               for r, f in zip(episodes, formatted, strict=True)]
    flat = normalise([x for ep in returns for x in ep])
    out, i = [], 0
    for ep in returns:
        out.append(flat[i:i + len(ep)])
        i += len(ep)
    return out


@dataclass
class Node:
    """One attempt in a Murphy tree: its verifier reward and the group its repairs formed."""

    reward: float
    children: list[Node] = field(default_factory=list)
    #: What the trainer needs of the attempt (its prompt and reply); not read here.
    payload: Any = None
    #: Set by `murphy_advantages`: v(n), and the advantage (None when pruned).
    value: float = 0.0
    advantage: float | None = None


def backed_up_value(node: Node, credit: Credit = "max") -> float:
    """v(n), computed for the whole subtree (stored on every node)."""
    for child in node.children:
        backed_up_value(child, credit)
    if node.children:
        values = [c.value for c in node.children]
        from_children = max(values) if credit == "max" else sum(values) / len(values)
        node.value = max(node.reward, from_children)
    else:
        node.value = node.reward
    return node.value


def murphy_advantages(root_group: list[Node], credit: Credit = "max",
                      min_std: float | None = None) -> list[Node]:
    """Fill `value` and `advantage` on every node; returns the nodes that got an advantage.

    Args:
        root_group: the G first-turn attempts of one task (their children hang below them).
        credit: "max" (MaRS) or "mean" (MeRS).
        min_std: prune groups whose values' std is below this (None: keep every group).
    """
    for node in root_group:
        backed_up_value(node, credit)
    kept: list[Node] = []
    groups = [root_group]
    while groups:
        group = groups.pop(0)
        values = [n.value for n in group]
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        if min_std is None or std >= min_std:
            for node, adv in zip(group, normalise(values), strict=True):
                node.advantage = adv
                kept.append(node)
        groups += [n.children for n in group if n.children]
    return kept
