"""`iacforge eval --tasks FILE --model SPEC`: evaluate a model (or the references) on tasks.

The run directory keeps everything as it happens; the same command, run again, resumes it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from iacforge.commands.args import add_verbosity, positive_float, positive_int
from iacforge.commands.generate import add_runtime, add_sampling_options, backend_options, sampling
from iacforge.commands.verify import add_fail_on
from iacforge.eval.harness import EvalConfig
from iacforge.llm.registry import default_model
from iacforge.verify.stages import STAGES

if TYPE_CHECKING:
    from iacforge.eval.harness import Progress

HELP = "Evaluate a model (or the tasks' reference solutions) on a benchmark, resumably."
#: Unsolved tasks listed on the terminal; the rest are in results.json and the report.
SHOWN_FAILURES = 20


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tasks", type=Path, required=True,
                        help="IaC-Eval CSV, task JSONL/Parquet, or a dataset folder")
    parser.add_argument("--split", help="the split to read from a dataset folder (e.g. test)")
    parser.add_argument("--limit", type=positive_int,
                        help="evaluate only the first N tasks (a smoke test)")
    parser.add_argument("--model", help=f"embedded, hf:PATH, openai:MODEL, scripted:FILE.json "
                                        f"(default: $IACFORGE_MODEL or {default_model()})")
    parser.add_argument("--references", action="store_true",
                        help="judge the tasks' reference solutions instead of a model")
    parser.add_argument("--k", type=_ks, default=None,
                        help="comma-separated k of pass@k (default: 1 and n)")
    parser.add_argument("--run", type=Path,
                        help="run directory (default: runs/<tasks>--<model>--n<samples>-t<turns>)")
    parser.add_argument("--stages", type=_stages,
                        help="comma-separated stages to verify (default: all; intent where a "
                             "task has a policy)")
    parser.add_argument("--chunk", type=positive_int, default=EvalConfig.chunk,
                        help=f"tasks generated and verified together (default {EvalConfig.chunk})")
    parser.add_argument("--workers", type=positive_int,
                        help="verification workers (default: the cores)")
    parser.add_argument("--timeout", type=positive_float, help="seconds per terraform command")
    parser.add_argument("--no-cache", action="store_true", help="do not use the verdict cache")
    add_fail_on(parser)
    add_verbosity(parser)
    model = parser.add_argument_group("model")
    model.add_argument("--base-url", help="OpenAI-compatible API root for openai:MODEL")
    model.add_argument("--api-key-env", metavar="VAR", help="variable holding the API key")
    model.add_argument("--server", choices=("vllm", "llama.cpp"), default="vllm",
                       help="the openai: server's kind: how --constrain's grammar is sent "
                            "(vLLM structured outputs, or llama.cpp GBNF; default vllm)")
    model.add_argument("--adapter", help="LoRA adapter directory for a local model")
    add_runtime(model)
    add_sampling_options(model, samples=EvalConfig.samples, turns=EvalConfig.turns)


def _stages(text: str) -> tuple[str, ...]:
    names = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    return names


def _ks(text: str) -> tuple[int, ...]:
    try:
        ks = tuple(sorted({int(k) for k in text.split(",") if k.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated whole numbers, not {text!r}") from None
    if not ks or ks[0] < 1:
        raise argparse.ArgumentTypeError(f"must be whole numbers of at least 1, not {text!r}")
    return ks


def run(args: argparse.Namespace) -> int:
    from iacforge.config import Settings
    from iacforge.data import load_tasks
    from iacforge.eval.harness import open_run, results_of, run_eval
    from iacforge.llm.registry import load_backend
    from iacforge.verify.cache import VerdictCache, default_path
    from iacforge.verify.options import VerifierOptions
    from iacforge.verify.pipeline import Verifier
    from iacforge.verify.pool import open_pool

    options = backend_options(args)  # a bad combination is a usage error before any work
    tasks = load_tasks(args.tasks, split=args.split)[:args.limit]
    skipped = []
    if args.references:
        skipped = [t.id for t in tasks if not t.reference]
        tasks = [t for t in tasks if t.reference]
    settings = Settings.from_env(timeout=args.timeout, fail_on=args.fail_on)
    config = EvalConfig(
        samples=args.samples, turns=args.turns, ks=args.k or tuple(sorted({1, args.samples})),
        stages=args.stages, references=args.references, sampling=sampling(args),
        chunk=args.chunk, fail_on=settings.fail_on)
    spec = "references" if args.references else (args.model or default_model())
    path = args.run or default_run_dir(args.tasks, spec, config.samples, config.turns)
    verifier = Verifier(settings, config.stages, options=VerifierOptions(fail_on=config.fail_on))
    run_dir = open_run(path, tasks, config, spec, {
        "command": ["iacforge", *sys.argv[1:]], "tasks_file": str(args.tasks),
        "skipped_without_reference": skipped})
    backend = None if args.references else load_backend(spec, options)
    cache = None if args.no_cache else VerdictCache(default_path(settings))
    pool = open_pool("local", args.workers or settings.workers)
    try:
        with ProgressView(f"eval {path}", quiet=args.quiet) as view:
            run_eval(tasks, run_dir, config, backend=backend, verifier=verifier, pool=pool,
                     cache=cache, on_progress=view.update)
    finally:
        pool.close()
    results = results_of(run_dir)
    written = run_dir.write_results(results)
    print(summary_text(results, skipped))
    print(f"results: {written}")
    return 0


def default_run_dir(tasks: Path, model: str, samples: int, turns: int) -> Path:
    """A run directory named for what the command evaluates: the same command resumes it."""
    def slug(text: str) -> str:
        return re.sub(r"[^A-Za-z0-9.]+", "-", text).strip("-")[:60] or "x"

    return Path("runs") / f"{slug(tasks.stem)}--{slug(model)}--n{samples}-t{turns}"


def summary_text(results: dict, skipped: list[str]) -> str:
    """A few lines for the terminal: the headline rates and pass@k."""
    overall = results["overall"]
    rates = overall["rates"]

    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{100 * value:.1f}%"

    lines = [f"{overall['tasks']} tasks, {overall['samples']} samples "
             f"({overall['verifier_errors']} the verifier could not judge)",
             f"FV-i compile {pct(rates['compile'])} · FV-ii plan {pct(rates['deploy'])} · "
             f"FV-iii correct {pct(rates['correct'])} (strict {pct(rates['correct_strict'])}) "
             f"· lint {pct(rates['lint'])} · security {pct(rates['compliance'])}",
             "pass@k (IaC-Eval rule): " + json.dumps(overall["pass_at_k"]["correct"])]
    failing = [(row["task_id"], row["failure"]) for row in results["tasks"] if row["failure"]]
    if failing:
        lines.append(f"{len(failing)} task(s) not solved; the first sample that fell short:")
    for task_id, failure in failing[:SHOWN_FAILURES]:
        why = failure["summary"] or failure["status"]
        lines.append(f"  {task_id}: {failure['stage']} {failure['status']}: {why}")
    if len(failing) > SHOWN_FAILURES:
        lines.append(f"  … and {len(failing) - SHOWN_FAILURES} more (results.json, "
                     "`iacforge report`)")
    if skipped:
        lines.append(f"skipped (no reference solution): {', '.join(skipped)}")
    return "\n".join(lines)


class ProgressView:
    """A rich progress bar with ETA on a terminal; a line per step elsewhere (logs, CI)."""

    def __init__(self, title: str, *, quiet: bool = False) -> None:
        from rich.console import Console

        self.title = title
        self.console = Console(stderr=True, highlight=False, quiet=quiet)
        self._bar: Any = None
        self._task: Any = None
        self._start = time.monotonic()

    def __enter__(self) -> ProgressView:
        if self.console.is_terminal:
            from rich import progress as rp

            self._bar = rp.Progress(
                rp.TextColumn("{task.description}"), rp.BarColumn(), rp.MofNCompleteColumn(),
                rp.TimeElapsedColumn(), rp.TextColumn("ETA"), rp.TimeRemainingColumn(),
                console=self.console)
            self._bar.start()
            self._task = self._bar.add_task(self.title, total=None)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, progress: Progress) -> None:
        done, total, phase = progress.done, progress.total, progress.phase
        if self._bar is not None and phase == "resume":
            # what an earlier run did is not speed: start the ETA's clock from here
            self._bar.reset(self._task, total=total, completed=done)
        elif self._bar is not None:
            self._bar.update(self._task, completed=done, description=f"{self.title} · {phase}")
        elif phase in ("resume", "verified"):
            elapsed = time.monotonic() - self._start
            self.console.print(f"{self.title}: {done}/{total} samples done, {elapsed:.0f} s",
                               soft_wrap=True)
