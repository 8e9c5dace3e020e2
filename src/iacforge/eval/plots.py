"""The report's figures, drawn with matplotlib and returned as `data:` URIs (PNG, base64).

Each function takes the runs as `(label, results)` pairs, where `results` is a run's
`results.json` document (see metrics.summarise), and draws the runs side by side.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: figures are only ever written to bytes

import matplotlib.pyplot as plt
import numpy as np

from iacforge.eval.metrics import pass_at_k

Runs = Sequence[tuple[str, dict[str, Any]]]
#: The pass rates the stage chart shows, with their axis labels (two lines each, so six
#: labels fit side by side).
SHOWN = (("compile", "FV-i\ncompile"), ("deploy", "FV-ii\nplan"),
         ("correct", "FV-iii\nIaC-Eval rule"), ("correct_strict", "FV-iii\nstrict rule"),
         ("lint", "lint\npassed"))


def criteria_bars(runs: Runs) -> str:
    """Pass rate of every criterion, one bar per run (compliance has its own chart: it is a
    mean share of checks passed, not a share of samples)."""
    labels = [label for _, label in SHOWN]
    values = [[_rate(doc["overall"]["rates"], key) for key, _ in SHOWN] for _, doc in runs]
    return _bars(labels, [name for name, _ in runs], values, "Pass rate per stage",
                 ylabel="share of samples")


def compliance_bars(runs: Runs) -> str:
    """Mean security compliance (checkov checks passed / checks run), one bar per run."""
    names = [name for name, _ in runs]
    values = [[_rate(doc["overall"]["rates"], "compliance")] for _, doc in runs]
    return _bars(["security compliance\n(mean share of checkov checks passed)"], names, values,
                 "Security compliance", ylabel="share of checks")


def difficulty_bars(runs: Runs, criterion: str = "correct") -> str:
    """The `criterion` pass rate per difficulty level, one bar per run."""
    return _group_bars(runs, "by_difficulty", criterion, "difficulty")


def family_bars(runs: Runs, criterion: str = "correct") -> str:
    """The `criterion` pass rate per resource family, one bar per run."""
    return _group_bars(runs, "by_family", criterion, "resource family")


def pass_at_k_curves(runs: Runs, criterion: str = "correct") -> str:
    """pass@k for k = 1 … the run's samples, averaged over tasks, one line per run."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, doc in runs:
        counts = [tuple(row["counts"][criterion]) for row in doc["tasks"]
                  if row["counts"][criterion][1] > 0]
        top = max((n for _, n in counts), default=0)
        ks = list(range(1, top + 1))
        curve = [np.mean([pass_at_k(n, c, k) for c, n in counts if n >= k]) for k in ks]
        ax.plot(ks, curve, marker="o", label=name)
    label = dict(SHOWN).get(criterion, criterion).replace("\n", " ")
    ax.set(xlabel="k (samples)", ylabel="pass@k", ylim=(0, 1.05), title=f"pass@k, {label}")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _uri(fig)


def turn_curves(runs: Runs, criterion: str = "correct") -> str:
    """The `criterion` pass rate with answers from turns 1 … t (the repair loop's gain)."""
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for name, doc in runs:
        turns = sorted(doc["by_turn"], key=int)
        ax.plot([int(t) for t in turns], [_rate(doc["by_turn"][t], criterion) for t in turns],
                marker="o", label=name)
    ax.set(xlabel="turns", ylabel=f"pass rate ({criterion})", ylim=(0, 1.05),
           title="Repair turns")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _uri(fig)


def _group_bars(runs: Runs, section: str, criterion: str, what: str) -> str:
    groups = list(dict.fromkeys(g for _, doc in runs for g in doc[section]))
    values = [[_rate(doc[section][g]["rates"], criterion) if g in doc[section] else np.nan
               for g in groups] for _, doc in runs]
    label = dict(SHOWN).get(criterion, criterion).replace("\n", " ")
    return _bars(groups, [name for name, _ in runs], values, f"{label}: pass rate per {what}",
                 ylabel="share of samples")


def _bars(groups: list[str], series: list[str], values: list[list[float]], title: str,
          ylabel: str = "rate") -> str:
    width_in = min(10.0, max(6.4, 0.45 * len(groups) * max(1, len(series))))
    fig, ax = plt.subplots(figsize=(width_in, 3.6))
    width = 0.8 / max(1, len(series))
    x = np.arange(len(groups))
    for i, (name, row) in enumerate(zip(series, values, strict=True)):
        ax.bar(x + (i - (len(series) - 1) / 2) * width, row, width, label=name)
    ax.set_xticks(x, groups, rotation=20 if len(groups) > 6 else 0)
    ax.set(ylim=(0, 1.05), ylabel=ylabel, title=title)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return _uri(fig)


def _rate(rates: dict[str, float | None], key: str) -> float:
    """The rate, or NaN (drawn as nothing) when it could not be judged."""
    value = rates.get(key)
    return np.nan if value is None else float(value)


def _uri(fig: Any) -> str:
    buffer = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
