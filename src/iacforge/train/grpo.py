"""`iacforge train grpo`: GRPO (TRL GRPOTrainer) with the verifier as the reward.

Each step samples `group` completions for each of `prompts_per_step` task prompts, prices them
with `VerifierReward` (validate → plan → intent, TerraFormer's 0 / 0.5 / 1 + k/n scale;
batched, cached, or through `iacforge serve` at `reward_url`), and takes one policy-gradient
step on the group-normalised rewards with a KL penalty `beta` to the starting policy (for LoRA,
the model with the adapter disabled). `StepLog` writes one line per step to
`<out>/steps.jsonl`: the step's seconds, the seconds spent waiting for rewards, and how many
completions reached FV-i (validate), FV-ii (plan) and FV-iii (intent). The run's summary
(`train_summary.json`) has the share of step time spent waiting for rewards.

TRL awaits the reward before the loss, so verification overlaps the other candidates'
verification (a thread pool, or the server's workers), not generation; on GPUs, generation
moves to vLLM (`use_vllm`) and the reward to a Ray pool behind `iacforge serve` (docs/training.md).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iacforge.data.loaders import load_tasks
from iacforge.data.task import Task
from iacforge.errors import IacforgeError
from iacforge.llm.base import Constrain
from iacforge.train.data import grpo_example, prompt_of
from iacforge.train.policy import load_policy
from iacforge.train.rewards import VerifierReward
from iacforge.train.run import RLRun


@dataclass(frozen=True, kw_only=True)
class GRPORun(RLRun):
    """One GRPO run."""

    prompts_per_step: int = 2
    max_steps: int = 20
    max_completion_length: int = 384
    #: Tasks whose prompt is longer are left out (TRL does not truncate prompts).
    max_prompt_length: int = 1024
    use_vllm: bool = False
    #: Completions per forward/backward pass; the step accumulates gradients over the whole
    #: `group × prompts_per_step` batch. Memory grows with it: 8 completions of 512 tokens in
    #: one pass (logits over SmolLM2's 49k-token vocabulary) took 23 GB and were OOM-killed.
    micro_batch: int = 2
    #: Decoding constraint of the rollouts: TRL samples them and takes no logits processor,
    #: so only `none` (constrained rollouts: `--method multiturn`).
    constrain: Constrain = "none"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.constrain != "none":
            raise IacforgeError(f"GRPO rollouts are sampled by TRL, which takes no decoding "
                                f"grammar: --constrain {self.constrain} needs --method multiturn")
        if self.micro_batch < 1 or (self.group * self.prompts_per_step) % self.micro_batch:
            raise IacforgeError(f"micro_batch ({self.micro_batch}) must divide group × "
                                f"prompts_per_step ({self.group * self.prompts_per_step})")


class StepLog:
    """A TrainerCallback: per-step wall time, reward wait and stage counts, to a JSONL file."""

    def __init__(self, reward: VerifierReward, path: Path) -> None:
        self.reward = reward
        self.path = path
        self.steps: list[dict[str, Any]] = []
        self._start = 0.0

    def on_step_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        self._start = time.monotonic()

    def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        counts = self.reward.take_counts()
        seconds = time.monotonic() - self._start
        row = {"step": state.global_step, "seconds": round(seconds, 2),
               "reward_seconds": round(counts.seconds, 2),
               "reward_wait_share": round(counts.seconds / seconds, 4) if seconds else 0.0,
               "completions": counts.total, "with_intent": counts.with_intent, **counts.passed}
        self.steps.append(row)
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        print(f"step {row['step']}: {seconds:.1f} s, reward wait {row['reward_wait_share']:.0%}; "
              f"FV-i {counts.passed['fv1_validate']}/{counts.total}, FV-ii "
              f"{counts.passed['fv2_plan']}/{counts.total}, FV-iii "
              f"{counts.passed['fv3_intent']}/{counts.with_intent}", flush=True)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_"):  # every other event: nothing to do
            return lambda *args, **kwargs: None
        raise AttributeError(name)

    def summary(self) -> dict[str, Any]:
        total = sum(s["seconds"] for s in self.steps)
        waited = sum(s["reward_seconds"] for s in self.steps)
        return {"step_seconds": round(total, 1), "reward_seconds": round(waited, 1),
                "reward_wait_share": round(waited / total, 4) if total else None}


def run_grpo(run: GRPORun, tasks: list[Task] | None = None,
             policy: tuple[Any, Any] | None = None) -> dict[str, Any]:
    """Train with GRPO, save the adapter (or model) to `run.out`, return the summary."""
    from datasets import Dataset
    from transformers.trainer_utils import get_last_checkpoint
    from trl import GRPOConfig, GRPOTrainer

    tasks = (tasks if tasks is not None else load_tasks(run.tasks))[:run.limit]
    model, tokenizer = policy or load_policy(run.model, adapter=run.adapter)
    kept = [t for t in tasks if _prompt_tokens(t, tokenizer) <= run.max_prompt_length]
    if not kept:
        raise IacforgeError(f"no task's prompt fits in {run.max_prompt_length} tokens")
    out = Path(run.out)
    out.mkdir(parents=True, exist_ok=True)
    reward = VerifierReward(run.stages, url=run.reward_url, workers=run.workers)
    log = StepLog(reward, out / "steps.jsonl")
    batch = run.group * run.prompts_per_step
    args = GRPOConfig(
        output_dir=str(out), num_generations=run.group,
        per_device_train_batch_size=run.micro_batch,
        gradient_accumulation_steps=batch // run.micro_batch,
        max_completion_length=run.max_completion_length,
        temperature=run.temperature, beta=run.beta, learning_rate=run.learning_rate,
        max_steps=run.max_steps, logging_steps=1, save_steps=run.save_steps, save_total_limit=2,
        report_to="none", seed=run.seed, **run.trainer_precision(),
        use_vllm=run.use_vllm, log_completions=False, dataloader_num_workers=0,
        gradient_checkpointing=False)
    trainer = GRPOTrainer(model=model, reward_funcs=[reward], args=args,
                          train_dataset=Dataset.from_list([grpo_example(t) for t in kept]),
                          processing_class=tokenizer, callbacks=[log],
                          peft_config=None if run.adapter else run.lora.peft_config())
    resume = get_last_checkpoint(str(out))
    start = time.monotonic()
    try:
        result = trainer.train(resume_from_checkpoint=resume)
    finally:
        reward.close()
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    summary = {
        "method": "grpo", "tasks": len(kept), "skipped_long_prompts": len(tasks) - len(kept),
        "run": run.to_json(), "steps": result.global_step,
        "seconds": round(time.monotonic() - start, 1), **log.summary(),
        "rewards": [e["reward"] for e in trainer.state.log_history if "reward" in e],
        "losses": [e["loss"] for e in trainer.state.log_history if "loss" in e],
        "stage_counts": log.steps, "resumed_from": resume,
    }
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _prompt_tokens(task: Task, tokenizer: Any) -> int:
    text = tokenizer.apply_chat_template(prompt_of(task), tokenize=False,
                                         add_generation_prompt=True)
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])
