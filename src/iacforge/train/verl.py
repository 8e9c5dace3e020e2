"""The verifier as a verl reward: `compute_score` for the naive reward manager,
`compute_score_batch` for the batch one.

Point verl's `custom_reward_function.path` at this file and `name` at `compute_score` (or
`compute_score_batch` with `reward_model.reward_manager=batch`, which verifies a whole rollout
batch at once). verl's columns map onto a task row as follows:

- `solution_str`: the model's reply (fenced code, as in the repair loop);
- `ground_truth` (`reward_model.ground_truth`): the task's intent policy, Rego text; "" or
  None for none;
- `extra_info["files"]`: a mutation task's starting files, as the task format stores them
  (a list of `{"name", "text"}`, a mapping, or JSON of either); absent for generation tasks.

`custom_reward_function.reward_kwargs` may set `url` (an `iacforge serve` root; default
`$IACFORGE_REWARD_URL`, else the verifier runs in this process), `stages` and `unjudged`.

**Could not judge.** iacforge's reward is None when the verifier could not judge (a timeout,
a provider it lacks offline). verl has no "no reward": the score goes straight into a float
tensor. So the score is then `unjudged` (default 0.0, what a failed candidate earns, never a
pass's reward), and the returned dict says `judged: 0.0`, so a run can log how often it
happened, or filter those samples. Every dict carries the same numeric keys, since verl turns
them into per-sample arrays and averages them in validation metrics.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from iacforge.certificate import Certificate
from iacforge.generate import Request
from iacforge.reward import reward
from iacforge.train.rewards import FORMAL, REWARD_STAGES, VerifierReward, start_files
from iacforge.verify.intent_policy import IntentPolicy

#: Where `compute_score` sends candidates when no `url` is given; unset: in-process.
URL_VARIABLE = "IACFORGE_REWARD_URL"

#: One reward function per (url, stages) in this process: its thread pool and cache
#: connection are kept across verl's calls, one per sample with the naive manager.
_REWARDS: dict[tuple[str | None, tuple[str, ...]], VerifierReward] = {}


def compute_score(data_source: str, solution_str: str, ground_truth: str | None,
                  extra_info: dict[str, Any] | None = None, *, url: str | None = None,
                  stages: Sequence[str] = REWARD_STAGES,
                  unjudged: float = 0.0) -> dict[str, float]:
    """The verifier's score for one reply, verl's way: `{"score": float, "judged": 1.0|0.0,
    "fv1_validate": 0|1, "fv2_plan": 0|1, "fv3_intent": 0|1}`.

    `data_source` is not read: every row is Terraform.
    """
    [score] = compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info],
                                  url=url, stages=stages, unjudged=unjudged)
    return score


def compute_score_batch(data_sources: Sequence[str], solution_strs: Sequence[str],
                        ground_truths: Sequence[str | None],
                        extra_infos: Sequence[dict[str, Any] | None], *,
                        url: str | None = None, stages: Sequence[str] = REWARD_STAGES,
                        unjudged: float = 0.0) -> list[dict[str, float]]:
    """`compute_score` for a batch, verified together (verl's batch reward manager)."""
    fn = _reward_fn(url if url is not None else os.environ.get(URL_VARIABLE), tuple(stages))
    candidates = [
        Request("", files=start_files((info or {}).get("files"))).candidate(
            text, f"verl sample {i + 1}")
        for i, (text, info) in enumerate(zip(solution_strs, extra_infos, strict=True))]
    intents = [IntentPolicy(text) if text else None for text in ground_truths]
    certs = fn.certificates(candidates, intents)
    return [_scored(cert, fn, unjudged) for cert in certs]


def _reward_fn(url: str | None, stages: tuple[str, ...]) -> VerifierReward:
    key = (url or None, stages)
    if key not in _REWARDS:
        _REWARDS[key] = VerifierReward(stages, url=url or None)
    return _REWARDS[key]


def _scored(cert: Certificate, fn: VerifierReward, unjudged: float) -> dict[str, float]:
    value = reward(cert, fn.weights)
    out = {"score": unjudged if value is None else float(value),
           "judged": 0.0 if value is None else 1.0}
    out.update({key: float(cert.passes(stage)) for key, stage in FORMAL})
    return out
