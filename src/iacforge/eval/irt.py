"""Item analysis: a two-parameter logistic IRT model over several runs' per-task results.

Each run i (a model, a prompt, a checkpoint) has an ability θ_i; each task j a difficulty b_j
and a discrimination a_j; a sample of run i passes task j with probability
σ(a_j (θ_i - b_j)). A run's c_ij passing samples of n_ij are binomial. The parameters are fitted
by maximum likelihood with weak Gaussian priors (θ ~ N(0, 1), b ~ N(0, 3²), a ~ N(1, 1)): the
priors fix the scale the model leaves free and keep a task every run passes (or fails) at a
finite difficulty instead of running off to infinity. a may go negative: stronger runs then
fail the task more often, which says more about the task than about the runs.

A task is flagged when it tells the runs apart poorly: its discrimination is below
`min_discrimination`, or every run has the same pass rate on it.

>>> fit = fit_2pl({"weak": {"easy": (4, 4), "hard": (0, 4)},
...                "strong": {"easy": (4, 4), "hard": (3, 4)}})
>>> fit.item("hard").difficulty > fit.item("easy").difficulty
True
>>> fit.ability("strong") > fit.ability("weak")
True
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize
from scipy.special import expit

#: Prior standard deviations and the discrimination prior's mean.
THETA_SD, DIFFICULTY_SD, DISCRIMINATION_MEAN, DISCRIMINATION_SD = 1.0, 3.0, 1.0, 1.0
Responses = Mapping[str, Mapping[str, tuple[int, int]]]


@dataclass(frozen=True)
class ItemFit:
    """One task's fitted parameters, and whether it separates the runs poorly."""

    task_id: str
    difficulty: float
    discrimination: float
    #: Pass rate of each run on this task (None where the run has no sample of it).
    rates: dict[str, float | None]
    flagged: bool
    reason: str = ""


@dataclass(frozen=True)
class IRTFit:
    """Fitted abilities (by run) and items (by task, in input order)."""

    abilities: dict[str, float]
    items: list[ItemFit]
    converged: bool
    log_likelihood: float

    def item(self, task_id: str) -> ItemFit:
        return next(i for i in self.items if i.task_id == task_id)

    def ability(self, run: str) -> float:
        return self.abilities[run]


def fit_2pl(responses: Responses, *, min_discrimination: float = 0.5) -> IRTFit:
    """Fit the 2PL model to `responses[run][task] = (passed, samples)`."""
    runs = list(responses)
    tasks = list(dict.fromkeys(t for r in runs for t in responses[r]))
    if len(runs) < 2 or not tasks:
        raise ValueError("item analysis needs at least two runs with tasks in common")
    c = np.zeros((len(runs), len(tasks)))
    n = np.zeros_like(c)
    for i, run in enumerate(runs):
        for j, task in enumerate(tasks):
            c[i, j], n[i, j] = responses[run].get(task, (0, 0))
    if np.any(c > n) or np.any(c < 0):
        raise ValueError("each response must be (passed, samples) with 0 <= passed <= samples")
    start = np.concatenate([np.zeros(len(runs)), np.full(len(tasks), DISCRIMINATION_MEAN),
                            np.zeros(len(tasks))])
    result = minimize(_objective, start, args=(c, n), jac=True, method="L-BFGS-B")
    theta, a, b = np.split(result.x, [len(runs), len(runs) + len(tasks)])
    items = [_item(task, float(a[j]), float(b[j]), runs, c[:, j], n[:, j], min_discrimination)
             for j, task in enumerate(tasks)]
    return IRTFit(dict(zip(runs, map(float, theta), strict=True)), items,
                  bool(result.success), -float(_nll(result.x, c, n)))


def responses_from(results: Mapping[str, Mapping], criterion: str = "correct") -> Responses:
    """`responses[run][task]` from runs' `results.json` documents, for one criterion."""
    return {run: {row["task_id"]: tuple(row["counts"][criterion])
                  for row in doc["tasks"] if row["counts"][criterion][1] > 0}
            for run, doc in results.items()}


def _item(task: str, a: float, b: float, runs: list[str], c: np.ndarray, n: np.ndarray,
          min_discrimination: float) -> ItemFit:
    rates = {run: (float(c[i] / n[i]) if n[i] else None) for i, run in enumerate(runs)}
    seen = [r for r in rates.values() if r is not None]
    reason = ""
    if len(set(seen)) <= 1:
        reason = "every run has the same pass rate"
    elif a < min_discrimination:
        reason = f"discrimination {a:.2f} below {min_discrimination:g}"
        if a < 0:
            reason += " (negative: stronger runs pass it less often)"
    return ItemFit(task, b, a, rates, bool(reason), reason)


def _unpack(x: np.ndarray, shape: tuple[int, int]) -> tuple[np.ndarray, ...]:
    runs, tasks = shape
    return x[:runs], x[runs:runs + tasks], x[runs + tasks:]


def _nll(x: np.ndarray, c: np.ndarray, n: np.ndarray) -> float:
    theta, a, b = _unpack(x, c.shape)
    z = a[None, :] * (theta[:, None] - b[None, :])
    # -log σ(z) = softplus(-z), -log(1 - σ(z)) = softplus(z)
    return float(np.sum(c * np.logaddexp(0, -z) + (n - c) * np.logaddexp(0, z)))


def _objective(x: np.ndarray, c: np.ndarray, n: np.ndarray) -> tuple[float, np.ndarray]:
    """Negative log posterior and its gradient."""
    theta, a, b = _unpack(x, c.shape)
    diff = theta[:, None] - b[None, :]
    z = a[None, :] * diff
    p = expit(z)
    residual = n * p - c  # d(-log likelihood)/dz
    value = _nll(x, c, n) + (np.sum(theta**2) / (2 * THETA_SD**2)
                             + np.sum(b**2) / (2 * DIFFICULTY_SD**2)
                             + np.sum((a - DISCRIMINATION_MEAN) ** 2) / (2 * DISCRIMINATION_SD**2))
    grad_theta = residual @ a + theta / THETA_SD**2
    grad_a = np.sum(residual * diff, axis=0) + (a - DISCRIMINATION_MEAN) / DISCRIMINATION_SD**2
    grad_b = -np.sum(residual, axis=0) * a + b / DIFFICULTY_SD**2
    return value, np.concatenate([grad_theta, grad_a, grad_b])
