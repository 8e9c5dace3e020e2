"""Training: SFT on reference solutions, GRPO on the verifier reward, multi-turn repair RL.

Each method is a run config plus a `run_*` function (`sft`, `grpo`, `multiturn`); the reward
(`rewards.VerifierReward`), the advantage math (`advantages`), the rollouts (`episodes`), the
examples (`data`), the model (`policy`) and the packing figures (`packing`) are their own
modules. Importing this package needs nothing beyond iacforge itself; the runs need the
[llm] extra (torch, transformers, peft, trl, datasets). See docs/training.md.
"""

from iacforge.train.advantages import gtpo_advantages, murphy_advantages
from iacforge.train.grpo import GRPORun, run_grpo
from iacforge.train.multiturn import MultiTurnRun, run_multiturn
from iacforge.train.policy import LoraSettings
from iacforge.train.rewards import VerifierReward
from iacforge.train.sft import SFTRun, run_sft

__all__ = [
    "GRPORun",
    "LoraSettings",
    "MultiTurnRun",
    "SFTRun",
    "VerifierReward",
    "gtpo_advantages",
    "murphy_advantages",
    "run_grpo",
    "run_multiturn",
    "run_sft",
]
