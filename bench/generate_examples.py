"""Pass rate at each stage for the example requests, with one turn and with repair turns.

    .venv/bin/python bench/generate_examples.py [--model embedded] [--turns 1 5] [--samples 2]
        [--max-new-tokens 256] [--trajectories DIR]

Runs the repair loop on every request of examples/requests.jsonl (with its intent policy), once
per `--turns` value, on one loaded model, and prints for each value the share of requests whose
best candidate passed each stage, the wall time, and as its last line the ratio of the full-pass
rate to the baseline: the first `--turns` value (one turn, no repair).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from iacforge.config import Settings
from iacforge.generate import LoopConfig, Request, Result, run_loop, write_trajectories
from iacforge.llm import Sampling, default_model, load_backend
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.stages import STAGES

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def requests() -> list[tuple[str, Request]]:
    """(id, request) for every line of examples/requests.jsonl."""
    out = []
    for line in (EXAMPLES / "requests.jsonl").read_text().splitlines():
        item = json.loads(line)
        intent = IntentPolicy.from_file(EXAMPLES / item["intent"]) if item.get("intent") else None
        out.append((item["id"], Request(item["request"], intent=intent)))
    return out


def stage_rates(results: list[Result]) -> dict[str, float]:
    """Share of results whose best certificate passed each stage, in pipeline order."""
    return {name: sum(r.best.certificate.passes(name) for r in results) / len(results)
            for name in STAGES if any(r.best.certificate.stage(name) for r in results)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=default_model())
    parser.add_argument("--turns", type=int, nargs="+", default=[1, 5])
    parser.add_argument("--samples", type=int, default=2)
    parser.add_argument("--max-new-tokens", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--trajectories", type=Path, help="directory for one JSONL per run")
    args = parser.parse_args()
    start = time.monotonic()
    backend = load_backend(args.model)
    print(f"model {args.model} loaded in {time.monotonic() - start:.1f} s", flush=True)
    verifier = Verifier(Settings.from_env())
    todo = requests()
    full: dict[int, float] = {}
    for turns in args.turns:
        config = LoopConfig(args.samples, turns, Sampling(args.max_new_tokens, seed=args.seed))
        start = time.monotonic()
        results = []
        for rid, request in todo:
            result = run_loop(backend, verifier, request, config)
            results.append(result)
            best = result.best
            print(f"turns={turns} {rid}: {best.certificate.status} at "
                  f"{best.certificate.failed_stage or '-'}, reward {best.reward}, "
                  f"{result.turns_used} turn(s), {result.seconds:.1f} s", flush=True)
            if args.trajectories:
                args.trajectories.mkdir(parents=True, exist_ok=True)
                with (args.trajectories / f"turns{turns}.jsonl").open("a") as fh:
                    write_trajectories(result, fh, model=args.model)
        wall = time.monotonic() - start
        rates = stage_rates(results)
        full[turns] = sum(r.passed for r in results) / len(results)
        shown = " ".join(f"{name}={rate:.0%}" for name, rate in rates.items())
        print(f"turns={turns} requests={len(results)} samples={args.samples} "
              f"max_new_tokens={args.max_new_tokens} wall_s={wall:.1f} {shown} "
              f"full_pass={full[turns]:.0%}", flush=True)
    base, last = args.turns[0], args.turns[-1]
    ratio = full[last] / full[base] if full[base] else float("nan")
    print(f"full_pass turns={last}: {full[last]:.0%} baseline turns={base}: {full[base]:.0%} "
          f"ratio={ratio:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
