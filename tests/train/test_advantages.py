"""GTPO and Murphy advantages against values worked out by hand."""

from __future__ import annotations

import math

import pytest

from iacforge.train.advantages import (
    Node,
    discounted_returns,
    gtpo_advantages,
    murphy_advantages,
    normalise,
    turn_rewards,
)


def test_turn_rewards_pay_format_and_progress_then_the_outcome_on_the_last_turn():
    # rewards 0 → 0.5 → 2.0: progress 0, 0.5, then the outcome 2.0; every reply formatted
    assert turn_rewards([0.0, 0.5, 2.0], [True, True, True]) == pytest.approx([0.1, 0.6, 2.1])
    # a turn that gets worse earns no negative progress; no code block, no format bonus
    assert turn_rewards([1.0, 0.5, 0.0], [True, False, True]) == pytest.approx([1.1, 0.0, 0.1])


def test_returns_discount_what_follows():
    assert discounted_returns([1.0, 0.0, 1.0], 0.5) == pytest.approx([1.25, 0.5, 1.0])
    assert discounted_returns([0.1, 0.6, 2.1], 0.9) == pytest.approx(
        [0.1 + 0.9 * 0.6 + 0.81 * 2.1, 0.6 + 0.9 * 2.1, 2.1])


def test_gtpo_normalises_returns_over_every_turn_of_the_group():
    # episode A: fails then passes (0 → 2); episode B: one turn, passes (2)
    advs = gtpo_advantages([[0.0, 2.0], [2.0]], [[True, True], [True]], gamma=0.9)
    # r_A = [0.1, 2.1] → R_A = [0.1 + 0.9·2.1, 2.1] = [1.99, 2.1]; R_B = [2.1]
    returns = [1.99, 2.1, 2.1]
    mean = sum(returns) / 3
    std = math.sqrt(sum((r - mean) ** 2 for r in returns) / 3)
    expected = [(r - mean) / (std + 1e-6) for r in returns]
    assert [a for ep in advs for a in ep] == pytest.approx(expected)
    assert [len(ep) for ep in advs] == [2, 1]


def test_a_group_with_equal_returns_gets_zero_advantage():
    assert gtpo_advantages([[0.0], [0.0]], [[False], [False]]) == [[0.0], [0.0]]
    assert normalise([3.0, 3.0]) == [0.0, 0.0]


def _tree() -> list[Node]:
    # root group: a fails (0.5) and is repaired by children 2.0 and 0.0; b fails (0) with
    # children 0.5 and 0.5; c passes (2.0)
    return [Node(0.5, [Node(2.0), Node(0.0)]), Node(0.0, [Node(0.5), Node(0.5)]), Node(2.0)]


def test_murphy_mars_backs_up_the_best_child_and_normalises_per_group():
    roots = _tree()
    kept = murphy_advantages(roots, "max")
    assert [n.value for n in roots] == [2.0, 0.5, 2.0]
    # root group values [2, 0.5, 2]: mean 1.5, std sqrt(0.5)
    s = math.sqrt(0.5)
    assert [n.advantage for n in roots] == pytest.approx([0.5 / s, -1 / s, 0.5 / s], rel=1e-5)
    # children of a: [2, 0] → ±1; children of b: equal → 0
    assert [c.advantage for c in roots[0].children] == pytest.approx([1.0, -1.0], rel=1e-5)
    assert [c.advantage for c in roots[1].children] == [0.0, 0.0]
    assert len(kept) == 7


def test_murphy_mers_backs_up_the_mean_but_never_below_the_attempt_itself():
    roots = _tree()
    murphy_advantages(roots, "mean")
    # a: max(0.5, mean(2, 0) = 1) = 1; b: max(0, 0.5) = 0.5; c: 2
    assert [n.value for n in roots] == [1.0, 0.5, 2.0]
    mean, std = 3.5 / 3, math.sqrt(((1 - 3.5 / 3) ** 2 + (0.5 - 3.5 / 3) ** 2
                                    + (2 - 3.5 / 3) ** 2) / 3)
    assert [n.advantage for n in roots] == pytest.approx(
        [(v - mean) / std for v in (1.0, 0.5, 2.0)], rel=1e-5)


def test_murphy_backs_up_through_several_turns():
    deep = [Node(0.0, [Node(0.0, [Node(2.0), Node(0.0)]), Node(0.5)]), Node(0.5)]
    murphy_advantages(deep, "max")
    assert [n.value for n in deep] == [2.0, 0.5]
    assert [n.value for n in deep[0].children] == [2.0, 0.5]


def test_murphy_pruning_drops_groups_without_signal():
    roots = _tree()
    kept = murphy_advantages(roots, "max", min_std=0.1)
    assert roots[1].children[0].advantage is None and roots[1].children[1].advantage is None
    assert len(kept) == 5


def _turn(formatted: bool = True):
    from iacforge.data.task import Task
    from iacforge.train.episodes import Turn

    return Turn(Task("t", "generate", "x"), 1, [], "", None, formatted)  # type: ignore[arg-type]


def test_the_trainer_credits_gtpo_chains_turn_by_turn():
    from iacforge.train.multiturn import MultiTurnRun, credit

    run = MultiTurnRun(tasks="-", out="-", estimator="gtpo")
    roots = [Node(0.0, [Node(2.0, payload=_turn())], payload=_turn()),
             Node(2.0, payload=_turn())]
    got = [a for _, a in credit(run, roots)]
    assert got == pytest.approx([a for ep in gtpo_advantages(
        [[0.0, 2.0], [2.0]], [[True, True], [True]]) for a in ep])


def test_the_trainer_credits_murphy_trees_and_leaves_out_pruned_groups():
    from iacforge.train.multiturn import MultiTurnRun, credit

    run = MultiTurnRun(tasks="-", out="-", estimator="murphy", prune_std=0.1)
    roots = [Node(0.0, [Node(0.5, payload=_turn()), Node(0.5, payload=_turn())],
                  payload=_turn()), Node(2.0, payload=_turn())]
    got = credit(run, roots)
    # root group values [0.5, 2]: ±1; the children's group has no spread and is pruned
    assert [a for _, a in got] == pytest.approx([-1.0, 1.0], rel=1e-5)
