"""`iacforge train sft`: supervised fine-tuning on tasks' reference solutions (TRL SFTTrainer).

Chat prompt-completion examples (see `train.data`) with the loss on the completion only, LoRA
by default (or full fine-tuning with `rank=0`), and TRL's best-fit-decreasing packing into
padding-free rows of `max_length` tokens. Documents longer than a row are left out by default
(counted as `dropped_long_documents`); with `drop_long=False` the packer truncates them.
The packing figures (`train.packing`) are printed and written to `<out>/train_summary.json`
with the losses. Checkpoints go under `<out>`; the same command again resumes from the last.

>>> SFTRun(tasks="t.jsonl", out="o", max_length=256).max_length
256
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
from iacforge.train.data import sft_example, with_reference
from iacforge.train.packing import document_lengths, packing_stats
from iacforge.train.policy import load_policy
from iacforge.train.run import TrainRun


@dataclass(frozen=True, kw_only=True)
class SFTRun(TrainRun):
    """One SFT run: data, model, and the knobs worth turning on a CPU."""

    learning_rate: float = 2e-4
    save_steps: int = 50
    #: Tokens per packed row (longer documents: see `drop_long`).
    max_length: int = 1024
    #: Packed rows per optimizer step (times `grad_accum`).
    batch_size: int = 4
    grad_accum: int = 1
    epochs: float = 1.0
    #: Stop after this many steps (-1: run the epochs).
    max_steps: int = -1
    packing: bool = True
    #: Leave out documents longer than `max_length` (else the packer truncates them, which
    #: trains on answers cut short, or on none of the answer when the prompt fills the row).
    drop_long: bool = True

    def __post_init__(self) -> None:
        if self.max_length < 16:
            raise IacforgeError(f"max_length must be at least 16 tokens, not {self.max_length}")
        if self.batch_size < 1 or self.grad_accum < 1:
            raise IacforgeError("batch_size and grad_accum must be at least 1")


def run_sft(run: SFTRun, tasks: list[Task] | None = None,
            policy: tuple[Any, Any] | None = None, *,
            examples: list[dict[str, Any]] | None = None,
            callbacks: list[Any] | None = None) -> dict[str, Any]:
    """Train, save the adapter (or model) and tokenizer to `run.out`, return the summary.

    `examples`: prompt-completion rows to learn instead of the tasks' references (RFT's kept
    answers and repair conversations); `callbacks`: extra TrainerCallbacks (progress)."""
    from datasets import Dataset
    from transformers.trainer_utils import get_last_checkpoint
    from trl import SFTConfig, SFTTrainer

    if examples is None:
        tasks = with_reference(tasks if tasks is not None else load_tasks(run.tasks))[:run.limit]
        if not tasks:
            raise IacforgeError(f"{run.tasks}: no task has a reference solution to learn from")
        examples = [sft_example(t) for t in tasks]
    model, tokenizer = policy or load_policy(run.model, adapter=run.adapter)
    documents = len(examples)
    lengths = document_lengths(examples, tokenizer)
    dropped = sum(n > run.max_length for n in lengths) if run.drop_long else 0
    if dropped:
        kept = [i for i, n in enumerate(lengths) if n <= run.max_length]
        examples, lengths = [examples[i] for i in kept], [lengths[i] for i in kept]
    if not examples:
        raise IacforgeError(f"every document is longer than max_length={run.max_length}")
    out = Path(run.out)
    args = SFTConfig(
        output_dir=str(out), max_length=run.max_length, packing=run.packing,
        packing_strategy="bfd", completion_only_loss=True,
        per_device_train_batch_size=run.batch_size, gradient_accumulation_steps=run.grad_accum,
        num_train_epochs=run.epochs, max_steps=run.max_steps, learning_rate=run.learning_rate,
        lr_scheduler_type="cosine", warmup_steps=0.05, logging_steps=1, save_steps=run.save_steps,
        save_total_limit=2, report_to="none", seed=run.seed, **run.trainer_precision(),
        gradient_checkpointing=False, dataloader_num_workers=0)
    trainer = SFTTrainer(model=model, args=args, train_dataset=Dataset.from_list(examples),
                         processing_class=tokenizer, callbacks=callbacks,
                         peft_config=None if run.adapter else run.lora.peft_config())
    stats = packing_stats(trainer.train_dataset, lengths, run.max_length) if run.packing else None
    if stats is not None:  # known before the first step: written at once, not only at the end
        out.mkdir(parents=True, exist_ok=True)
        (out / "packing.json").write_text(json.dumps(stats.to_dict(), indent=2) + "\n")
        print(f"packing: {stats.documents} documents → {stats.rows} rows of {stats.max_length}; "
              f"real tokens {stats.real_token_share:.1%} (padded: "
              f"{stats.padded_real_token_share:.1%}), loss tokens {stats.loss_token_share:.1%}, "
              f"truncated {stats.truncated_documents}, left out (too long) {dropped}", flush=True)
    start = time.monotonic()
    resume = get_last_checkpoint(str(out)) if out.is_dir() else None
    result = trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(str(out))
    tokenizer.save_pretrained(str(out))
    summary = {
        "method": "sft", "tasks": documents, "examples": len(examples),
        "run": run.to_json(),
        "packing": stats.to_dict() if stats else None, "dropped_long_documents": dropped,
        "steps": result.global_step,
        "train_loss": result.training_loss, "seconds": round(time.monotonic() - start, 1),
        "losses": [e["loss"] for e in trainer.state.log_history if "loss" in e],
        "resumed_from": resume,
    }
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary

