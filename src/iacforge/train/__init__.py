"""Training: SFT on references, GRPO, multi-turn repair RL and RFT on the verifier's verdicts.

Each method is a run config plus a `run_*` function (`sft`, `grpo`, `multiturn`, `rft`, and
`recipe`, which chains SFT, RFT and eval); the reward
(`rewards.VerifierReward`), the advantage math (`advantages`), the rollouts (`episodes`), the
examples (`data`), the model (`policy`) and the packing figures (`packing`) are their own
modules. Importing this package needs nothing beyond iacforge itself; the runs need the
[llm] extra (torch, transformers, peft, trl, datasets). See docs/training.md.
"""

from iacforge.train.advantages import gtpo_advantages, murphy_advantages
from iacforge.train.grpo import GRPORun, run_grpo
from iacforge.train.multiturn import MultiTurnRun, run_multiturn
from iacforge.train.policy import LoraSettings
from iacforge.train.recipe import Recipe, run_recipe
from iacforge.train.rewards import VerifierReward
from iacforge.train.rft import RFTRun, run_rft
from iacforge.train.sft import SFTRun, run_sft

__all__ = [
    "GRPORun",
    "LoraSettings",
    "MultiTurnRun",
    "RFTRun",
    "Recipe",
    "SFTRun",
    "VerifierReward",
    "gtpo_advantages",
    "murphy_advantages",
    "run_grpo",
    "run_multiturn",
    "run_recipe",
    "run_rft",
    "run_sft",
]
