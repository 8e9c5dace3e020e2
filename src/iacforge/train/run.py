"""What every training run is configured with: `TrainRun` (all methods), `RLRun` (RL ones).

The method's own run (`SFTRun`, `GRPORun`, `MultiTurnRun`) adds its knobs and may change a
default (the learning rate, how often to save); fields are keyword-only, so the order in
which they are declared does not matter to callers.

>>> RLRun(tasks="t.jsonl", out="o").to_json()["stages"]
['validate', 'plan', 'intent']
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from iacforge.errors import IacforgeError
from iacforge.train.policy import LoraSettings
from iacforge.train.rewards import REWARD_STAGES


@dataclass(frozen=True, kw_only=True)
class TrainRun:
    """Data, starting model, adapter and the optimizer knobs every method shares."""

    tasks: str | Path
    out: str | Path
    #: `embedded`, `hf:PATH` or a path (default: the embedded model).
    model: str | None = None
    #: Keep training this LoRA adapter (e.g. an SFT result); else a fresh one (or full, rank 0).
    adapter: str | Path | None = None
    lora: LoraSettings = field(default_factory=LoraSettings)
    learning_rate: float = 5e-5
    seed: int = 0
    #: Checkpoint every N steps (the same command resumes from the last).
    save_steps: int = 10
    #: Tasks to read: the first `limit` (None: all).
    limit: int | None = None
    #: bfloat16 autocast (CPUs with AVX512-BF16 or AMX, and GPUs): a LoRA step 1.8× faster on
    #: this machine's EPYC (bench/train_step_bf16.py); weights and optimizer state stay float32.
    bf16: bool = False

    def trainer_precision(self) -> dict[str, Any]:
        """The HF TrainingArguments for `bf16`: autocast, and `use_cpu` without a GPU (the
        Trainer refuses bf16 on a machine with no GPU unless told it runs on the CPU)."""
        import torch

        return {"bf16": self.bf16, "use_cpu": not torch.cuda.is_available()}

    def to_json(self) -> dict[str, Any]:
        """The run as JSON values (paths as strings), for `train_summary.json`; with an
        `adapter`, `lora` is that adapter's shape (the one trained), not the unused setting."""
        run = asdict(self)
        if self.adapter is not None:
            run["lora"] = asdict(LoraSettings.of_adapter(self.adapter))
        return json.loads(json.dumps(run, default=str))


@dataclass(frozen=True, kw_only=True)
class RLRun(TrainRun):
    """Sampling and reward knobs of the methods that learn from the verifier."""

    #: Completions (first attempts) per prompt: GRPO's G.
    group: int = 4
    prompts_per_step: int = 1
    #: KL coefficient to the starting policy (0: no reference model is run).
    beta: float = 0.0
    temperature: float = 0.9
    max_steps: int = 10
    #: Verifier stages the reward runs (intent where a task has a policy).
    stages: tuple[str, ...] = REWARD_STAGES
    #: An `iacforge serve` URL to verify on; else a local thread pool of `workers`.
    reward_url: str | None = None
    workers: int | None = None

    def __post_init__(self) -> None:
        if self.group < 2:
            raise IacforgeError(f"group must be at least 2 (advantages compare completions of "
                                f"one prompt), not {self.group}")
        if self.prompts_per_step < 1 or self.max_steps < 1:
            raise IacforgeError("prompts_per_step and max_steps must be at least 1")
