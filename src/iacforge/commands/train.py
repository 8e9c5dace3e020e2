"""`iacforge train sft|grpo|multiturn|rft|recipe`: fine-tune, then learn from the verifier.

Each run writes its adapter (or model), `train_summary.json` and checkpoints to `--out`; the
same command again resumes. The result loads with `--model embedded --adapter OUT` (LoRA) or
`--model OUT` (full fine-tuning). Needs the [llm] extra with trl and datasets.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import fields
from pathlib import Path
from typing import Any, get_args

from iacforge.commands.args import (
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    probability,
    steps,
)
from iacforge.errors import SetupError
from iacforge.train.advantages import Credit
from iacforge.train.grpo import GRPORun
from iacforge.train.multiturn import Estimator, MultiTurnRun
from iacforge.train.policy import LoraSettings
from iacforge.train.recipe import Recipe
from iacforge.train.rft import RFTRun
from iacforge.train.run import RLRun, TrainRun
from iacforge.train.sft import SFTRun

HELP = ("Train the model: SFT on reference solutions; GRPO, multi-turn RL or rejection-sampling "
        "fine-tuning on the verifier.")
#: Examples shown under the --help of the methods that have their own.
EXAMPLES = {
    "rft": "iacforge train rft --tasks train.jsonl --out runs/rft --adapter runs/sft "
           "--rounds 2 --k 4 --eval-tasks test.jsonl --eval-limit 40",
    "recipe": "iacforge train recipe --tasks train.jsonl --out runs/recipe --sft-steps 200 "
              "--rounds 2 --eval-tasks test.jsonl --eval-limit 40",
}


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="method", required=True, metavar="METHOD")
    sft = sub.add_parser("sft", help="supervised fine-tuning with best-fit packing")
    _common(sft, SFTRun)
    _sft(sft, SFTRun, epochs="passes over the tasks",
         max_steps="stop after N steps (-1: run the epochs)")
    grpo = sub.add_parser("grpo", help="GRPO with the verifier reward (TRL GRPOTrainer)")
    _common(grpo, GRPORun)
    _rl(grpo, GRPORun)
    grpo.add_argument("--max-new-tokens", type=positive_int, dest="max_completion_length",
                      default=GRPORun.max_completion_length)
    grpo.add_argument("--max-prompt-length", type=positive_int, default=GRPORun.max_prompt_length,
                      help="leave out tasks whose prompt is longer (tokens)")
    grpo.add_argument("--vllm", action="store_true", dest="use_vllm",
                      help="generate with vLLM (GPU, installed)")
    grpo.add_argument("--micro-batch", type=positive_int, default=GRPORun.micro_batch,
                      help="completions per forward/backward pass (memory)")
    multi = sub.add_parser("multiturn", help="the repair loop as the RL episode")
    _common(multi, MultiTurnRun)
    _rl(multi, MultiTurnRun)
    multi.add_argument("--max-new-tokens", type=positive_int, default=MultiTurnRun.max_new_tokens,
                       help="reply budget per turn (tokens)")
    multi.add_argument("--estimator", choices=get_args(Estimator),
                       default=MultiTurnRun.estimator, help="credit assignment over turns")
    multi.add_argument("--turns", type=positive_int, default=MultiTurnRun.turns,
                       help="turns per episode")
    multi.add_argument("--branch", type=positive_int, default=MultiTurnRun.branch,
                       help="repairs per failed attempt (Murphy)")
    multi.add_argument("--gamma", type=probability, default=MultiTurnRun.gamma,
                       help="GTPO discount")
    multi.add_argument("--credit", choices=get_args(Credit), default=MultiTurnRun.credit,
                       help="Murphy: MaRS (max) or MeRS (mean)")
    multi.add_argument("--prune-std", type=non_negative_float, default=MultiTurnRun.prune_std,
                       help="Murphy: drop groups with value std below")
    rft = sub.add_parser("rft", help="rejection-sampling fine-tuning on the verifier's verdicts")
    _common(rft, RFTRun)
    _rft(rft, RFTRun)
    recipe = sub.add_parser("recipe", help="one sitting: SFT from the shipped adapter, RFT "
                                           "rounds, held-out eval; resumable, with an ETA")
    _common(recipe, Recipe)
    _rft(recipe, Recipe)
    recipe.add_argument("--sft-steps", type=_sft_steps, default=Recipe.sft_steps,
                        help="steps of the first SFT (-1: the epochs; 0: none)")
    recipe.add_argument("--sft-lr", type=positive_float, dest="sft_learning_rate",
                        default=Recipe.sft_learning_rate, help="learning rate of the first SFT")
    recipe.add_argument("--from-scratch", action="store_true",
                        help="a fresh LoRA instead of the shipped adapter (without --adapter)")
    recipe.add_argument("--no-bf16", action="store_false", dest="bf16",
                        help="float32 instead of bfloat16 autocast")
    recipe.set_defaults(bf16=Recipe.bf16)  # on, unlike the other methods' --bf16
    for name, parser_ in (("rft", rft), ("recipe", recipe)):
        parser_.epilog = f"example:\n  {EXAMPLES[name]}\n\n{_EXITS}"


def _common(parser: argparse.ArgumentParser, run: type[TrainRun]) -> None:
    """The flags of every method; defaults are `run`'s (shown by --help)."""
    parser.set_defaults(run_class=run)
    parser.add_argument("--tasks", type=Path, required=True,
                        help="task JSONL/Parquet, IaC-Eval CSV, or a dataset folder")
    parser.add_argument("--out", type=Path, required=True, help="output (and resume) directory")
    parser.add_argument("--model", help="embedded (default), hf:PATH or a path")
    parser.add_argument("--adapter", type=Path, help="keep training this LoRA adapter")
    parser.add_argument("--lora-rank", type=non_negative_int, default=LoraSettings.rank,
                        help="0: full fine-tuning")
    parser.add_argument("--lora-alpha", type=positive_int, default=LoraSettings.alpha,
                        help="LoRA scaling")
    parser.add_argument("--lr", type=positive_float, dest="learning_rate",
                        default=run.learning_rate, help="learning rate")
    parser.add_argument("--limit", type=positive_int, help="use only the first N tasks")
    parser.add_argument("--seed", type=non_negative_int, default=run.seed, help="random seed")
    parser.add_argument("--save-steps", type=positive_int, default=run.save_steps,
                        help=f"checkpoint every N steps (default {run.save_steps})")
    parser.add_argument("--bf16", action="store_true",
                        help="bfloat16 autocast (CPUs with AVX512-BF16/AMX, GPUs)")


def _rl(parser: argparse.ArgumentParser, run: type[RLRun]) -> None:
    parser.add_argument("--group", type=positive_int, default=run.group,
                        help=f"completions per prompt (G; default {run.group})")
    parser.add_argument("--prompts-per-step", type=positive_int, default=run.prompts_per_step,
                        help="tasks per optimizer step")
    parser.add_argument("--beta", type=non_negative_float, default=run.beta, help="KL coefficient")
    parser.add_argument("--temperature", type=non_negative_float, default=run.temperature,
                        help="sampling temperature")
    parser.add_argument("--max-steps", type=positive_int, default=run.max_steps,
                        help=f"optimizer steps (default {run.max_steps})")
    parser.add_argument("--stages", type=_stage_tuple, default=run.stages,
                        help=f"verifier stages the reward runs (default {','.join(run.stages)}; "
                             "intent where a task has one)")
    parser.add_argument("--reward-url", help="an `iacforge serve` URL to verify on")
    parser.add_argument("--constrain", choices=("schema", "syntax", "none"),
                        default=run.constrain,  # type: ignore[attr-defined]
                        help="decoding constraint of the rollouts (multiturn; default none: "
                             "on-policy)")
    parser.add_argument("--workers", type=positive_int, help="local verification threads")


#: The exit codes of a training command (the same as every non-verdict command's).
_EXITS = """exit codes:
  0   done
  2   usage error (a bad option or path)
  4   setup problem (terraform, the provider mirror, a model)
  70  internal error"""


def _rft(parser: argparse.ArgumentParser, run: type[RFTRun]) -> None:
    """The flags of RFT's rounds (and the SFT each round runs)."""
    parser.add_argument("--rounds", type=non_negative_int if run is Recipe else positive_int,
                        default=run.rounds, help="sample → keep → SFT rounds")
    parser.add_argument("--k", type=positive_int, default=run.k,
                        help="answers sampled per prompt and round")
    parser.add_argument("--turns", type=positive_int, default=run.turns,
                        help="turns per sample (>1: failing answers are repaired with the "
                             "verifier's feedback and passing repairs kept)")
    parser.add_argument("--max-new-tokens", type=positive_int, default=run.max_new_tokens,
                        help="reply budget (tokens)")
    parser.add_argument("--temperature", type=non_negative_float, default=run.temperature,
                        help="sampling temperature")
    parser.add_argument("--constrain", choices=("schema", "syntax", "none"),
                        default=run.constrain, help="decoding constraint of the samples")
    parser.add_argument("--stages", type=_stage_tuple, default=run.stages,
                        help=f"stages an answer must pass to be kept (default "
                             f"{','.join(run.stages)}; intent where a task has one)")
    parser.add_argument("--workers", type=positive_int, help="local verification threads")
    parser.add_argument("--no-cache", action="store_false", dest="cache",
                        help="do not use the verdict cache")
    parser.add_argument("--gen-batch", type=positive_int, default=run.gen_batch,
                        help="sequences generated together")
    parser.add_argument("--sampler", help="sample with this model spec instead of the policy "
                                          "(scripted:FILE.json: tests and dry runs)")
    _sft(parser, run, epochs="passes over the kept examples per round",
         max_steps="SFT steps per round (-1: the epochs)")
    parser.add_argument("--eval-tasks", type=Path, help="held-out tasks scored after each round")
    parser.add_argument("--eval-limit", type=positive_int, help="score only the first N of them")


def _sft(parser: argparse.ArgumentParser, run: type[SFTRun], *, epochs: str,
         max_steps: str) -> None:
    """The flags of an SFT (`train sft`'s, and each RFT round's), `epochs` and `max_steps`
    their help."""
    parser.add_argument("--max-length", type=positive_int, default=run.max_length,
                        help="tokens per packed row")
    parser.add_argument("--batch-size", type=positive_int, default=run.batch_size,
                        help="packed rows per step")
    parser.add_argument("--grad-accum", type=positive_int, default=run.grad_accum,
                        help="gradient accumulation steps")
    parser.add_argument("--epochs", type=positive_float, default=run.epochs, help=epochs)
    parser.add_argument("--max-steps", type=steps, default=run.max_steps, help=max_steps)
    parser.add_argument("--no-packing", action="store_false", dest="packing",
                        help="pad instead of packing")


def _sft_steps(text: str) -> int:
    return 0 if text.strip() == "0" else steps(text)


def _stage_tuple(text: str) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip())


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
    elif args.method == "multiturn":
        from iacforge.train.multiturn import run_multiturn

        summary = run_multiturn(config)
        shown = {"steps": len(summary["steps"])}
    elif args.method == "rft":
        from iacforge.train.rft import run_rft

        summary = run_rft(config)
        shown = {"rounds": summary["rounds"], "adapter": summary["adapter"]}
    else:
        from iacforge.train.recipe import run_recipe

        summary = run_recipe(config)
        shown = {"adapter": summary["adapter"], "seconds": summary["seconds"]}
    print(json.dumps(shown, indent=2))
    return 0


def _config(args: argparse.Namespace) -> Any:
    """The run config the arguments describe (its checks raise IacforgeError): every flag
    that names a field of the method's run class, with the LoRA flags as its `lora`."""
    run = args.run_class
    names = {f.name for f in fields(run)}
    given = {k: v for k, v in vars(args).items() if k in names}
    return run(**given, lora=LoraSettings(rank=args.lora_rank, alpha=args.lora_alpha))
