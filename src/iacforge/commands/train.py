"""`iacforge train sft|grpo|multiturn`: fine-tune the model on tasks, then RL on the verifier.

Each run writes its adapter (or model), `train_summary.json` and checkpoints to `--out`; the
same command again resumes. The result loads with `--model embedded --adapter OUT` (LoRA) or
`--model OUT` (full fine-tuning). Needs the [llm] extra with trl and datasets.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from iacforge.errors import SetupError
from iacforge.train.rewards import REWARD_STAGES

HELP = "Train the model: SFT on reference solutions, GRPO or multi-turn RL on the verifier."


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="method", required=True, metavar="METHOD")
    sft = sub.add_parser("sft", help="supervised fine-tuning with best-fit packing")
    _common(sft, lr=2e-4)
    sft.add_argument("--max-length", type=int, default=1024, help="tokens per packed row")
    sft.add_argument("--batch-size", type=int, default=4, help="packed rows per step")
    sft.add_argument("--grad-accum", type=int, default=1)
    sft.add_argument("--epochs", type=float, default=1.0)
    sft.add_argument("--max-steps", type=int, default=-1, help="stop after N steps")
    sft.add_argument("--no-packing", action="store_true", help="pad instead of packing")
    grpo = sub.add_parser("grpo", help="GRPO with the verifier reward (TRL GRPOTrainer)")
    _common(grpo, lr=5e-5)
    _rl(grpo)
    grpo.add_argument("--prompts-per-step", type=int, default=2)
    grpo.add_argument("--max-prompt-length", type=int, default=1024,
                      help="leave out tasks whose prompt is longer (tokens)")
    grpo.add_argument("--vllm", action="store_true", help="generate with vLLM (GPU, installed)")
    grpo.add_argument("--micro-batch", type=int, default=2,
                      help="completions per forward/backward pass (memory)")
    multi = sub.add_parser("multiturn", help="the repair loop as the RL episode")
    _common(multi, lr=5e-5)
    _rl(multi)
    multi.add_argument("--estimator", choices=("gtpo", "murphy"), default="gtpo")
    multi.add_argument("--turns", type=int, default=3, help="turns per episode")
    multi.add_argument("--branch", type=int, default=2, help="repairs per failed attempt (Murphy)")
    multi.add_argument("--gamma", type=float, default=0.9, help="GTPO discount")
    multi.add_argument("--credit", choices=("max", "mean"), default="max",
                       help="Murphy: MaRS (max) or MeRS (mean)")
    multi.add_argument("--prune-std", type=float, help="Murphy: drop groups with value std below")
    multi.add_argument("--prompts-per-step", type=int, default=1)


def _common(parser: argparse.ArgumentParser, *, lr: float) -> None:
    parser.add_argument("--tasks", type=Path, required=True,
                        help="task JSONL/Parquet, IaC-Eval CSV, or a dataset folder")
    parser.add_argument("--out", type=Path, required=True, help="output (and resume) directory")
    parser.add_argument("--model", help="embedded (default), hf:PATH or a path")
    parser.add_argument("--adapter", type=Path, help="keep training this LoRA adapter")
    parser.add_argument("--lora-rank", type=int, default=8, help="0: full fine-tuning")
    parser.add_argument("--lora-alpha", type=int, default=16)
    parser.add_argument("--lr", type=float, default=lr, help=f"learning rate (default {lr})")
    parser.add_argument("--limit", type=int, help="use only the first N tasks")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--save-steps", type=int, default=10)
    parser.add_argument("--bf16", action="store_true",
                        help="bfloat16 autocast (CPUs with AVX512-BF16/AMX, GPUs)")


def _rl(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", type=int, default=4, help="completions per prompt (G)")
    parser.add_argument("--beta", type=float, default=0.0, help="KL coefficient")
    parser.add_argument("--max-new-tokens", type=int, default=384)
    parser.add_argument("--temperature", type=float, default=0.9)
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--stages", default=",".join(REWARD_STAGES),
                        help="verifier stages the reward runs (intent where a task has one)")
    parser.add_argument("--reward-url", help="an `iacforge serve` URL to verify on")
    parser.add_argument("--workers", type=int, help="local verification threads")


def run(args: argparse.Namespace) -> int:
    config = _config(args)  # usage errors before the seconds of importing torch and trl
    try:
        import datasets  # noqa: F401
        import trl  # noqa: F401
    except ImportError as exc:
        raise SetupError(f"training needs trl and datasets ({exc.name} is missing): "
                         "pip install 'iacforge[llm]'") from None
    if args.method == "sft":
        from iacforge.train.sft import run_sft

        summary = run_sft(config)
        shown = {"packing": summary["packing"], "steps": summary["steps"],
                 "train_loss": summary["train_loss"]}
    elif args.method == "grpo":
        from iacforge.train.grpo import run_grpo

        summary = run_grpo(config)
        shown = {k: summary[k] for k in ("steps", "reward_wait_share", "rewards")}
    else:
        from iacforge.train.multiturn import run_multiturn

        summary = run_multiturn(config)
        shown = {"steps": len(summary["steps"])}
    print(json.dumps(shown, indent=2))
    return 0


def _config(args: argparse.Namespace) -> Any:
    """The run config the arguments describe (its checks raise IacforgeError)."""
    from iacforge.train.policy import LoraSettings

    lora = LoraSettings(rank=args.lora_rank, alpha=args.lora_alpha)
    common = {"tasks": args.tasks, "out": args.out, "model": args.model, "adapter": args.adapter,
              "lora": lora, "learning_rate": args.lr, "seed": args.seed,
              "save_steps": args.save_steps, "limit": args.limit, "bf16": args.bf16}
    if args.method == "sft":
        from iacforge.train.sft import SFTRun

        return SFTRun(**common, max_length=args.max_length, batch_size=args.batch_size,
                      grad_accum=args.grad_accum, epochs=args.epochs, max_steps=args.max_steps,
                      packing=not args.no_packing)
    rl = {"group": args.group, "beta": args.beta, "temperature": args.temperature,
          "max_steps": args.max_steps, "reward_url": args.reward_url, "workers": args.workers,
          "stages": tuple(s.strip() for s in args.stages.split(",") if s.strip()),
          "prompts_per_step": args.prompts_per_step}
    if args.method == "grpo":
        from iacforge.train.grpo import GRPORun

        return GRPORun(**common, **rl, max_completion_length=args.max_new_tokens,
                       max_prompt_length=args.max_prompt_length, use_vllm=args.vllm,
                       micro_batch=args.micro_batch)
    from iacforge.train.multiturn import MultiTurnRun

    return MultiTurnRun(**common, **rl, estimator=args.estimator, turns=args.turns,
                        branch=args.branch, gamma=args.gamma, credit=args.credit,
                        prune_std=args.prune_std, max_new_tokens=args.max_new_tokens)
