"""`iacforge data ingest|curate|synth|mutate|dedup|split|stats`: build verified task sets.

    iacforge data synth --out data/synth --count 5000 --mutations 2000
    iacforge data dedup data/synth/generate.jsonl data/synth/mutate.jsonl --out data/all.jsonl \\
        --against iac-eval.csv
    iacforge data split data/all.jsonl --out data/final
    iacforge data stats data/final

Every output is JSONL (or Parquet) of task records that `datasets.load_dataset` reads.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from random import Random
from typing import Any

from iacforge.commands.args import fraction, non_negative_int, positive_int, unit_interval
from iacforge.errors import IacforgeError

HELP = "Build verified task sets: ingest, curate, synthesize, mutate, dedup, split, stats."


def register(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="data_command", required=True, metavar="STEP")
    for name, (help_text, add) in _STEPS.items():
        add(sub.add_parser(name, help=help_text, description=help_text))


def run(args: argparse.Namespace) -> int:
    return _RUN[args.data_command](args)


def _verifier(args: argparse.Namespace) -> Any:
    from iacforge.config import Settings
    from iacforge.formal import FORMAL_STAGES
    from iacforge.verify.pipeline import Verifier

    settings = Settings.from_env(workers=getattr(args, "workers", None))
    return Verifier(settings, stages=FORMAL_STAGES)


def _bar(total: int, label: str) -> Any:
    import rich.progress as rp
    from rich.console import Console

    return rp.Progress(rp.TextColumn(label), rp.BarColumn(), rp.MofNCompleteColumn(),
                       rp.TextColumn("{task.fields[note]}"), rp.TimeElapsedColumn(),
                       rp.TimeRemainingColumn(), console=Console(stderr=True))


# synth ------------------------------------------------------------------------------------

def _add_synth(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", type=Path, required=True, help="output directory (resumable)")
    p.add_argument("--count", type=non_negative_int, default=5000, help="generation tasks to write")
    p.add_argument("--mutations", type=non_negative_int, default=2000,
                   help="mutation tasks to write")
    p.add_argument("--families", help="comma-separated families (default: all)")
    p.add_argument("--chunk", type=positive_int, default=128, help="seeds verified together")
    p.add_argument("--batch-size", type=positive_int, help="candidates per terraform run")
    p.add_argument("--start", type=non_negative_int, default=0, help="first seed")
    p.add_argument("--workers", type=positive_int,
                   help="parallel terraform runs (default: the cores)")


def _synth(args: argparse.Namespace) -> int:
    from iacforge.data.synth import Synthesizer

    families = args.families.split(",") if args.families else None
    try:
        synth = Synthesizer(args.out, _verifier(args), batch_size=args.batch_size,
                            families=families)
    except ValueError as exc:
        raise IacforgeError(str(exc)) from None
    with _bar(args.count + args.mutations, "synth") as bar:
        task = bar.add_task("synth", total=args.count + args.mutations, note="")

        def update(counts: Any) -> None:
            done = min(counts.generate, args.count) + min(counts.mutate, args.mutations)
            bar.update(task, completed=done, note=f"gen {counts.generate} mut {counts.mutate} "
                                                  f"dropped {sum(counts.rejected.values())}")
            if not bar.console.is_terminal:  # a log file: one line per chunk instead
                print(json.dumps(counts.to_dict()), file=sys.stderr, flush=True)

        counts = synth.run(args.count, args.mutations, chunk=args.chunk, start=args.start,
                           on_chunk=update)
    print(json.dumps(counts.to_dict()))
    return 0 if counts.generate >= args.count and counts.mutate >= args.mutations else 1


# mutate -----------------------------------------------------------------------------------

def _add_mutate(p: argparse.ArgumentParser) -> None:
    p.add_argument("tasks", type=Path, help="generation tasks (JSONL, Parquet, CSV, folder)")
    p.add_argument("--out", type=Path, required=True, help="mutation tasks (.jsonl, appended)")
    p.add_argument("--rounds", type=positive_int, default=1, help="mutations tried per task")
    p.add_argument("--chunk", type=positive_int, default=64, help="mutations verified together")
    p.add_argument("--batch-size", type=positive_int, help="candidates per terraform run")
    p.add_argument("--workers", type=positive_int,
                   help="parallel terraform runs (default: the cores)")


def _mutate(args: argparse.Namespace) -> int:
    from iacforge.data.loaders import load_tasks
    from iacforge.data.remix import remix
    from iacforge.data.synth import verify_mutations

    args.out.parent.mkdir(parents=True, exist_ok=True)
    rejected_path = args.out.with_suffix(".rejected.jsonl")
    done = _ids(args.out) | _ids(rejected_path)
    verifier = _verifier(args)
    tasks = load_tasks(args.tasks)
    kept = dropped = 0
    pending: list[Any] = []
    with _bar(len(tasks), "mutate") as bar, args.out.open("a") as out, \
            rejected_path.open("a") as rejected:
        progress = bar.add_task("mutate", total=len(tasks), note="")

        def flush() -> None:
            nonlocal kept, dropped
            reasons = verify_mutations(verifier, pending, args.batch_size)
            for task, reason in zip(pending, reasons, strict=True):
                if reason is None:
                    out.write(json.dumps(task.to_record(), ensure_ascii=False) + "\n")
                    kept += 1
                else:
                    rejected.write(json.dumps({"id": task.id, "reason": reason}) + "\n")
                    dropped += 1
            pending.clear()
            bar.update(progress, note=f"kept {kept} dropped {dropped}")

        last = None
        for source, mutation in remix(tasks, rounds=args.rounds):
            if source is not last:
                bar.advance(progress)
                last = source
            if mutation is None or mutation.id in done:
                continue
            pending.append(mutation)
            if len(pending) >= args.chunk:
                flush()
        if pending:
            flush()
    print(json.dumps({"kept": kept, "dropped": dropped}))
    return 0


# dedup ------------------------------------------------------------------------------------

def _add_dedup(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", type=Path, nargs="+", help="task files or folders")
    p.add_argument("--out", type=Path, required=True, help="the kept tasks (.jsonl/.parquet)")
    p.add_argument("--threshold", type=unit_interval, default=0.9,
                   help="MinHash Jaccard similarity that makes a near duplicate (default 0.9)")
    p.add_argument("--no-near", action="store_true", help="remove exact duplicates only")
    p.add_argument("--against", type=Path, nargs="+", action="extend", default=[],
                   metavar="BENCHMARK",
                   help="benchmarks to decontaminate against (IaC-Eval CSV, task files); "
                        "several after one flag, or the flag repeated")
    p.add_argument("--ngram", type=positive_int, default=8, help="prompt n-gram length (code: 2n)")
    p.add_argument("--overlap", type=unit_interval, default=0.5,
                   help="share of a task's n-grams in the benchmark that removes it")


def _dedup(args: argparse.Namespace) -> int:
    from iacforge.data.decontam import Decontaminator
    from iacforge.data.dedup import dedup
    from iacforge.data.loaders import load_tasks, save_tasks

    tasks = [t for path in args.inputs for t in load_tasks(path)]
    result = dedup(tasks, threshold=args.threshold, near=not args.no_near)
    # every row has every column, typed the same, so `datasets` loads the report
    none = {"of": None, "prompt_overlap": None, "code_overlap": None, "against": None}
    removed = [{"id": k, "reason": "exact", **none, "of": v} for k, v in result.exact.items()]
    removed += [{"id": k, "reason": "near", **none, "of": v} for k, v in result.near.items()]
    kept = result.kept
    per_benchmark: dict[str, int] = {}
    if args.against:
        # one n-gram set over every benchmark decides (overlap may add up across them);
        # each removal names the benchmark it overlaps most
        sets = {str(p): load_tasks(p) for p in dict.fromkeys(args.against)}
        bench = Decontaminator([t for ts in sets.values() for t in ts], n=args.ngram,
                               threshold=args.overlap)
        dirty = bench.contaminated(kept)
        ids = {c.task.id for c in dirty}
        kept = [t for t in kept if t.id not in ids]
        each = {name: Decontaminator(ts, n=args.ngram, threshold=args.overlap)
                for name, ts in sets.items()}
        per_benchmark = dict.fromkeys(sets, 0)
        for c in dirty:
            name = max(each, key=lambda k: max(each[k].overlap(c.task)))
            per_benchmark[name] += 1
            removed.append({"id": c.task.id, "reason": "contaminated", "of": None,
                            "prompt_overlap": round(c.prompt_overlap, 3),
                            "code_overlap": round(c.code_overlap, 3), "against": name})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    save_tasks(kept, args.out)
    report = args.out.with_name(args.out.name.split(".")[0] + ".removed.jsonl")
    report.write_text("".join(json.dumps(r) + "\n" for r in removed), encoding="utf-8")
    counts = {"input": len(tasks), "kept": len(kept), "exact": len(result.exact),
              "near": len(result.near), "contaminated": len(removed) - len(result.exact)
              - len(result.near)}
    if per_benchmark:
        counts["against"] = per_benchmark
    print(json.dumps(counts))
    return 0


# split ------------------------------------------------------------------------------------

def _add_split(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", type=Path, nargs="+", help="task files or folders")
    p.add_argument("--out", type=Path, required=True,
                   help="folder for train.jsonl and test.jsonl")
    p.add_argument("--test-fraction", type=fraction, default=0.1,
                   help="share of the tasks in test")
    p.add_argument("--seed", type=non_negative_int, default=0, help="shuffle seed")
    p.add_argument("--parquet", action="store_true", help="also write train/test .parquet")


def _split(args: argparse.Namespace) -> int:
    from iacforge.data.loaders import load_tasks, save_tasks
    from iacforge.data.split import split

    tasks = [t for path in args.inputs for t in load_tasks(path)]
    try:
        train, test = split(tasks, test_fraction=args.test_fraction, seed=args.seed)
    except ValueError as exc:
        raise IacforgeError(str(exc)) from None
    args.out.mkdir(parents=True, exist_ok=True)
    for name, part in (("train", train), ("test", test)):
        # shuffled (seeded): the kinds interleave, so `datasets`' JSON type inference, which
        # reads the first rows, sees mutation rows' files and descriptions, not only nulls
        Random(args.seed).shuffle(part)
        save_tasks(part, args.out / f"{name}.jsonl")
        if args.parquet:
            save_tasks(part, args.out / f"{name}.parquet")
    print(json.dumps({"train": len(train), "test": len(test)}))
    return 0


# stats ------------------------------------------------------------------------------------

def _add_stats(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", type=Path, help="a split folder (train.jsonl, test.jsonl) or a "
                                              "task file")
    p.add_argument("--out", type=Path, help="the dataset card (default: DATASET/README.md)")
    p.add_argument("--name", help="the dataset's title")


def _stats(args: argparse.Namespace) -> int:
    from iacforge.data.card import dataset_card, statistics
    from iacforge.data.loaders import load_tasks

    if args.dataset.is_dir():
        files = {p.stem: p.name for p in sorted(args.dataset.glob("*.jsonl"))
                 if p.stem in ("train", "validation", "test")}
        if not files:
            raise IacforgeError(f"{args.dataset} has no train/validation/test .jsonl files")
        splits = {name: load_tasks(args.dataset / path) for name, path in files.items()}
        out = args.out or args.dataset / "README.md"
    else:
        files = {"train": args.dataset.name}
        splits = {"train": load_tasks(args.dataset)}
        out = args.out or args.dataset.with_name("README.md")
    stats = statistics(splits)
    out.write_text(dataset_card(stats, name=args.name or args.dataset.stem, files=files),
                   encoding="utf-8")
    json.dump(stats, sys.stdout)
    print()
    return 0


# ingest and curate ------------------------------------------------------------------------

def _add_ingest(p: argparse.ArgumentParser) -> None:
    p.add_argument("roots", type=Path, nargs="+", help="directories or git checkouts")
    p.add_argument("--out", type=Path, required=True, help="candidates (.jsonl)")


def _ingest(args: argparse.Namespace) -> int:
    from iacforge.data.ingest import ingest

    found = 0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", encoding="utf-8") as out:
        for root in args.roots:
            for module in ingest(root):
                out.write(json.dumps(module.to_record(), ensure_ascii=False) + "\n")
                found += 1
    print(json.dumps({"modules": found}))
    return 0


def _add_curate(p: argparse.ArgumentParser) -> None:
    from iacforge.llm.registry import default_model

    p.add_argument("modules", type=Path, help="ingested modules (.jsonl from `data ingest`)")
    p.add_argument("--out", type=Path, required=True, help="output folder (resumable)")
    p.add_argument("--model", default=None, help=f"repair and description model "
                                                 f"(default {default_model()})")
    p.add_argument("--turns", type=positive_int, default=5, help="repair turns, the first included")
    p.add_argument("--limit", type=positive_int, help="curate only the first N modules")
    p.add_argument("--max-new-tokens", type=positive_int, default=1024,
                   help="reply budget per turn")
    p.add_argument("--constrain", choices=("schema", "syntax", "none"),
                   help="decoding constraint of the repairs (default: schema for local models, "
                        "none for servers; descriptions are never constrained)")
    p.add_argument("--constrain-mode", choices=("mask", "reject"), default="mask",
                   help="mask each token, or redraw from the first forbidden one")
    p.add_argument("--workers", type=positive_int,
                   help="parallel terraform runs (default: the cores)")


def _curate(args: argparse.Namespace) -> int:
    from iacforge.data.curate import Curator
    from iacforge.data.ingest import load_modules
    from iacforge.llm.base import Sampling
    from iacforge.llm.registry import default_constrain, default_model, load_backend

    modules = load_modules(args.modules)[: args.limit]
    backend = load_backend(args.model or default_model())
    sampling = Sampling(max_new_tokens=args.max_new_tokens, temperature=0.2, seed=0,
                        constrain=args.constrain or default_constrain(args.model),
                        constrain_mode=args.constrain_mode)
    curator = Curator(args.out, backend, _verifier(args).settings, turns=args.turns,
                      sampling=sampling)
    with _bar(len(modules), "curate") as bar:
        task = bar.add_task("curate", total=len(modules), note="")
        for outcome in curator.run(modules):
            bar.update(task, advance=1, note=f"{outcome.module_id}: {outcome.status}")
    print(json.dumps(curator.counts))
    return 0


def _ids(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {json.loads(line)["id"] for line in path.read_text().splitlines() if line.strip()}


_STEPS = {
    "ingest": ("Find Terraform root modules in folders or git checkouts, with provenance.",
               _add_ingest),
    "curate": ("Verify ingested modules, repair failures with an LLM, write tasks.",
               _add_curate),
    "synth": ("Synthesize verified generation and mutation tasks (no LLM).", _add_synth),
    "mutate": ("Make verified mutation tasks from generation tasks.", _add_mutate),
    "dedup": ("Remove exact and near duplicates, and benchmark overlap.", _add_dedup),
    "split": ("Split tasks into train and test, keeping family combinations apart.",
              _add_split),
    "stats": ("Write a dataset card with statistics.", _add_stats),
}
_RUN = {"ingest": _ingest, "curate": _curate, "synth": _synth, "mutate": _mutate,
        "dedup": _dedup, "split": _split, "stats": _stats}
