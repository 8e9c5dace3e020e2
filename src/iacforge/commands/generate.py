"""`iacforge generate "…"`: write Terraform for a request, verified and repaired in a loop.

The options and the run are shared with `iacforge mutate`, which adds the files to start from.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
from pathlib import Path

from rich.console import Console
from rich.status import Status

from iacforge import __version__
from iacforge.commands.args import (
    add_verbosity,
    non_negative_float,
    non_negative_int,
    positive_float,
    positive_int,
    probability,
)
from iacforge.commands.verify import add_fail_on, exit_code
from iacforge.config import Settings
from iacforge.errors import ConfigError, IacforgeError
from iacforge.generate import LoopConfig, Progress, Request, Result, run_loop, write_trajectories
from iacforge.llm.base import Sampling
from iacforge.llm.registry import (
    RUNTIMES,
    BackendOptions,
    default_constrain,
    default_model,
    load_backend,
)
from iacforge.render.table import render_table
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier, require_policy, resolve_stages

HELP = "Generate Terraform for an English request, verified and repaired with the certificate."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("request", help="what the configuration should do, in English")
    add_loop_options(parser)
    parser.add_argument("--out", type=Path,
                        help="directory to write the files to (default: a new directory under "
                             "./generated/ named after the request)")


def add_loop_options(parser: argparse.ArgumentParser) -> None:
    """The options `generate` and `mutate` share: model, budgets, verification, output."""
    model = parser.add_argument_group("model")
    model.add_argument("--model", default=None,
                       help=f"embedded, hf:PATH, openai:MODEL, scripted:FILE.json or a local "
                            f"model path (default: $IACFORGE_MODEL or {default_model()})")
    model.add_argument("--adapter", help="LoRA adapter directory for a local model (needs peft)")
    model.add_argument("--base-url",
                       help="OpenAI-compatible API root, e.g. http://127.0.0.1:8000/v1")
    model.add_argument("--api-key-env", metavar="VAR",
                       help="environment variable holding the server's API key")
    model.add_argument("--server", choices=("vllm", "llama.cpp"), default="vllm",
                       help="the openai: server's kind: how --constrain's grammar is sent "
                            "(vLLM structured outputs, or llama.cpp GBNF; default vllm)")
    add_runtime(model)
    loop = parser.add_argument_group("repair loop")
    add_sampling_options(loop, samples=LoopConfig.samples, turns=LoopConfig.turns)
    verify = parser.add_argument_group("verification and output")
    verify.add_argument("--intent", type=Path, help="Rego intent policy evaluated on the plan")
    verify.add_argument("--stages", help="comma-separated stages to verify (default: all)")
    verify.add_argument("--timeout", type=positive_float, help="seconds per terraform command")
    add_fail_on(verify)
    verify.add_argument("--trajectories", type=Path, metavar="FILE",
                        help="write every attempt (prompt, reply, certificate, reward) as JSONL")
    verify.add_argument("--json", action="store_true", help="print a JSON result on stdout")
    add_verbosity(parser)


def add_sampling_options(group: argparse._ArgumentGroup, *, samples: int, turns: int) -> None:
    """--samples, --turns and the sampling flags, with the defaults of the dataclasses."""
    group.add_argument("--samples", type=positive_int, default=samples,
                       help=f"candidates sampled (default {samples})")
    group.add_argument("--turns", type=positive_int, default=turns,
                       help=f"turns, the first included (default {turns})")
    group.add_argument("--max-new-tokens", type=positive_int, default=Sampling.max_new_tokens,
                       help=f"reply budget in tokens (default {Sampling.max_new_tokens})")
    group.add_argument("--temperature", type=non_negative_float, default=Sampling.temperature,
                       help=f"0 is greedy (default {Sampling.temperature})")
    group.add_argument("--top-p", type=probability, default=Sampling.top_p,
                       help=f"nucleus sampling (default {Sampling.top_p})")
    group.add_argument("--seed", type=non_negative_int,
                       help="sampling seed (for reproducible samples)")
    group.add_argument("--constrain", choices=("schema", "syntax", "none"),
                       help="decode under the provider schema, HCL syntax, or freely (default: "
                            "schema for local models, none for servers)")
    group.add_argument("--constrain-mode", choices=("mask", "reject"),
                       default=Sampling.constrain_mode,
                       help="keep the constraint by masking each token (fast; skews the text) or "
                            "by redrawing a sample from its first forbidden token, learning "
                            "(local models; default mask)")


def add_runtime(group: argparse._ArgumentGroup) -> None:
    """--runtime: what runs a local model."""
    group.add_argument("--runtime", choices=RUNTIMES, default=BackendOptions.runtime,
                       help="what runs a local model (embedded, tuned, --adapter): transformers, "
                            "or llama.cpp on an in-process loopback server (faster; needs "
                            f"xllamacpp; default {BackendOptions.runtime})")


def backend_options(args: argparse.Namespace) -> BackendOptions:
    """The `BackendOptions` the model flags describe (a ConfigError for a bad combination)."""
    if args.runtime != "transformers" and args.constrain_mode == "reject":
        raise ConfigError(f"--constrain-mode reject runs on --runtime transformers only, "
                          f"not {args.runtime}")
    return BackendOptions(adapter=args.adapter, base_url=args.base_url,
                          api_key_env=args.api_key_env, server=args.server, runtime=args.runtime)


def sampling(args: argparse.Namespace) -> Sampling:
    """The `Sampling` the flags describe (a ConfigError for a bad value)."""
    return Sampling(args.max_new_tokens, args.temperature, args.top_p, args.seed,
                    args.constrain or default_constrain(args.model), args.constrain_mode)


def run(args: argparse.Namespace) -> int:
    request = Request(args.request, intent=load_intent(args))
    out = args.out or fresh_dir(Path("generated") / _slug(args.request))
    return execute(args, request, out)


def execute(args: argparse.Namespace, request: Request, out: Path,
            copy_from: Path | None = None) -> int:
    """Run the loop for `request`, write the best files to `out` (over a copy of `copy_from`
    when given), report, and return the exit code."""
    stages = [s.strip() for s in args.stages.split(",") if s.strip()] if args.stages else None
    resolve_stages(stages, with_intent=request.intent is not None)  # usage errors before loading
    require_policy(stages, [request.intent])
    config = LoopConfig(args.samples, args.turns, sampling(args))
    options = backend_options(args)
    verifier = Verifier(Settings.from_env(timeout=args.timeout), stages,
                        options=VerifierOptions(fail_on=args.fail_on))
    spec = args.model or default_model()
    with LiveView(quiet=args.quiet) as view:
        view.say(f"loading model {spec} …")
        backend = load_backend(spec, options)
        result = run_loop(backend, verifier, request, config, on_progress=view.progress)
    if args.trajectories:
        with args.trajectories.open("w", encoding="utf-8") as fh:
            write_trajectories(result, fh, model=spec, constrain=config.sampling.constrain)
    if copy_from is not None:
        # keep what is not Terraform source too (tfvars, docs); the loop's files go on top
        shutil.copytree(copy_from, out, ignore=shutil.ignore_patterns(".terraform"))
    files = result.best.candidate.files
    written = write_files(out, files)
    # no files means the model wrote no Terraform, not that it deleted every file
    diff = unified_diff(request.files, files) if request.files and files else None
    _report(result, out, written, diff, as_json=args.json)
    return exit_code([result.best.certificate])


class LiveView:
    """Progress on stderr: a spinner line on a terminal, one line per turn elsewhere."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.console = Console(stderr=True, highlight=False, quiet=quiet)
        self._status: Status | None = None

    def __enter__(self) -> LiveView:
        if self.console.is_terminal:
            self._status = self.console.status("")
            self._status.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()

    def say(self, text: str) -> None:
        if self._status is not None:
            self._status.update(text)
        else:
            self.console.print(text)

    def progress(self, p: Progress) -> None:
        best = "-" if p.best_reward is None else f"{p.best_reward:.2f}"
        doing = {"generate": "generating", "verify": "verifying", "turn_done": "done"}[p.phase]
        text = (f"turn {p.turn}/{p.turns} · {doing} {p.active}/{p.samples} samples · "
                f"best reward {best}{' · passed' if p.passed else ''}")
        if self._status is not None or p.phase == "turn_done":
            self.say(text)


def write_files(out: Path, files: dict[str, str]) -> list[str]:
    """Write `files` under `out` (made if missing); names that would leave `out` are refused."""
    for name in files:
        if Path(name).is_absolute() or ".." in Path(name).parts:
            raise IacforgeError(f"refusing to write {name!r} outside {out}")
    for name, text in files.items():
        path = out / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return sorted(files)


def unified_diff(before: dict[str, str], after: dict[str, str]) -> str:
    """A unified diff of two sets of files, file by file, in name order."""
    import difflib

    chunks = []
    for name in sorted(before.keys() | after.keys()):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        chunks += difflib.unified_diff(
            (old or "").splitlines(keepends=True), (new or "").splitlines(keepends=True),
            fromfile=f"a/{name}" if old is not None else "/dev/null",
            tofile=f"b/{name}" if new is not None else "/dev/null")
    return "".join(line if line.endswith("\n") else line + "\n" for line in chunks)


def fresh_dir(base: Path) -> Path:
    """`base`, or `base-2`, `base-3`, … : the first that does not exist yet."""
    path, n = base, 1
    while path.exists():
        n += 1
        path = base.with_name(f"{base.name}-{n}")
    return path


def load_intent(args: argparse.Namespace) -> IntentPolicy | None:
    """The `--intent` policy, or None."""
    return IntentPolicy.from_file(args.intent) if args.intent else None


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())[:6]
    return "-".join(words) or "request"


def _report(result: Result, out: Path, written: list[str], diff: str | None,
            *, as_json: bool) -> None:
    best = result.best
    if as_json:
        data = {"iacforge_version": __version__, **result.to_dict(), "out": str(out),
                "written": written}
        if diff is not None:
            data["diff"] = diff
        print(json.dumps(data, indent=2))
        return
    print(render_table([best.certificate]), end="")
    reward = "none" if best.reward is None else f"{best.reward:.2f}"
    where = f"wrote {', '.join(written)} to {out}" if written else "no Terraform to write"
    print(f"best: sample {best.sample + 1}, turn {best.turn}, reward {reward} "
          f"({result.turns_used} turn(s), {result.seconds:.1f} s); {where}")
    if diff:
        print(diff, end="")
