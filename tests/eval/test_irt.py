"""The 2PL fit recovers what synthetic data was drawn from, and flags uninformative tasks."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import spearmanr

from iacforge.eval.irt import fit_2pl, responses_from

NOISE = (3, 11, 19)  # tasks whose pass rate does not depend on ability (a = 0)


@pytest.fixture(scope="module")
def synthetic():
    rng = np.random.default_rng(7)
    runs, tasks, samples = 30, 24, 4
    theta = rng.normal(size=runs)
    b = rng.permutation(np.linspace(-2, 2, tasks))
    a = rng.uniform(1.2, 2.2, tasks)
    a[list(NOISE)] = 0.0
    p = 1 / (1 + np.exp(-a[None, :] * (theta[:, None] - b[None, :])))
    counts = rng.binomial(samples, p)
    responses = {f"run{i}": {f"t{j}": (int(counts[i, j]), samples) for j in range(tasks)}
                 for i in range(runs)}
    return theta, a, b, fit_2pl(responses)


def test_recovers_the_ordering_of_difficulties(synthetic):
    _, a, b, fit = synthetic
    informative = [j for j in range(len(b)) if a[j] > 0]
    estimated = [fit.item(f"t{j}").difficulty for j in informative]
    assert fit.converged
    assert spearmanr(estimated, b[informative]).statistic > 0.9


def test_recovers_the_ordering_of_abilities(synthetic):
    theta, _, _, fit = synthetic
    estimated = [fit.ability(f"run{i}") for i in range(len(theta))]
    assert spearmanr(estimated, theta).statistic > 0.9


def test_flags_exactly_the_tasks_that_do_not_discriminate(synthetic):
    _, _, _, fit = synthetic
    assert {i.task_id for i in fit.items if i.flagged} == {f"t{j}" for j in NOISE}
    assert all("discrimination" in i.reason for i in fit.items if i.flagged)


def test_a_task_every_run_passes_is_flagged_and_stays_finite():
    fit = fit_2pl({"a": {"easy": (3, 3), "mid": (0, 3)}, "b": {"easy": (3, 3), "mid": (3, 3)}})
    easy = fit.item("easy")
    assert easy.flagged and easy.reason == "every run has the same pass rate"
    assert np.isfinite(easy.difficulty) and easy.difficulty < fit.item("mid").difficulty
    assert fit.ability("b") > fit.ability("a")


def test_tasks_a_run_never_sampled_are_left_out_of_its_rates():
    fit = fit_2pl({"a": {"x": (1, 2)}, "b": {"x": (2, 2), "y": (0, 2)}})
    assert fit.item("y").rates == {"a": None, "b": 0.0}


def test_needs_two_runs_and_valid_counts():
    with pytest.raises(ValueError, match="two runs"):
        fit_2pl({"only": {"x": (1, 2)}})
    with pytest.raises(ValueError, match="passed"):
        fit_2pl({"a": {"x": (3, 2)}, "b": {"x": (1, 2)}})


def test_responses_from_results_documents():
    doc = {"tasks": [{"task_id": "x", "counts": {"correct": [2, 5]}},
                     {"task_id": "y", "counts": {"correct": [0, 0]}}]}
    assert responses_from({"run": doc}) == {"run": {"x": (2, 5)}}
