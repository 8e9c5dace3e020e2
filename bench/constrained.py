"""Constrained decoding: does the grammar accept valid references, and what does it buy?

`accept`: every task reference that passes `validate`, written in the reply form the prompts ask
for, checked against the `schema` grammar built for its own prompt and the `syntax` grammar;
prints accepted / total and every reject with its reason (target: 100 %).

`compare`: the repair loop's first turn (one sample per task, fixed seed) with `--constrain
none`, `syntax` and `schema` side by side on held-out tasks: compile / deploy / correct, new
tokens per second, and the overhead of each mode against `none` (target: ≤ 25 %).

    .venv/bin/python bench/constrained.py accept tests/fixtures/iac_eval_mini.csv data/test.jsonl
    .venv/bin/python bench/constrained.py compare data/test.jsonl --tasks 20 --model tuned
"""

from __future__ import annotations

import argparse
import time

from iacforge.constrain.grammar import grammar_for
from iacforge.constrain.processor import Constraint
from iacforge.data.loaders import load_tasks
from iacforge.generate import Request
from iacforge.llm import Sampling, load_backend
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import verify_all

TARGET_OVERHEAD = 0.25


def reply_form(files: dict[str, str]) -> str:
    """A reference as the model would write it: one fenced, named block per file."""
    return "\n".join(f"```hcl {name}\n{text.rstrip()}\n```" for name, text in files.items())


def accept(paths: list[str], limit: int | None) -> None:
    from transformers import AutoTokenizer

    from iacforge.llm.embedded import embedded_model

    constraint = Constraint(AutoTokenizer.from_pretrained(str(embedded_model())))
    verifier = Verifier(stages=["parse", "validate"])
    tasks = [t for p in paths for t in load_tasks(p) if t.reference][:limit]
    certs = verify_all([Request(t.prompt).candidate(reply_form(t.reference), t.id)
                        for t in tasks], verifier=verifier)
    valid = [t for t, c in zip(tasks, certs, strict=True) if c.passed]
    print(f"{len(valid)} of {len(tasks)} references validate")
    for mode in ("syntax", "schema"):
        rejects = []
        for task in valid:
            grammar = grammar_for(mode, task.prompt + "\n" + "\n".join(task.files.values()))
            why = constraint.accepts(reply_form(task.reference), grammar)
            if why:
                rejects.append((task.id, why))
        print(f"{mode}: accepted {len(valid) - len(rejects)}/{len(valid)}")
        for task_id, why in rejects:
            print(f"  reject {task_id}: {why}")


def compare(path: str, count: int, model: str, max_new_tokens: int, modes: list[str]) -> None:
    tasks = load_tasks(path)[:count]
    backend = load_backend(model)
    verifier = Verifier()
    requests = [Request(t.prompt, dict(t.files), IntentPolicy(t.intent) if t.intent else None)
                for t in tasks]
    base_rate = None
    for mode in modes:
        sampling = Sampling(max_new_tokens=max_new_tokens, temperature=0.7, seed=0,
                            constrain=mode)  # type: ignore[arg-type]
        mask = getattr(backend, "mask_seconds", 0.0)
        start = time.perf_counter()
        replies = [r[0] for r in backend.generate([q.first_prompt() for q in requests], 1,
                                                  sampling)]
        seconds = time.perf_counter() - start
        mask = getattr(backend, "mask_seconds", 0.0) - mask
        tokens = sum(len(backend.tokenizer(r)["input_ids"]) for r in replies)  # type: ignore[attr-defined]
        counts = {"compile": 0, "deploy": 0, "correct": 0}
        for request, reply in zip(requests, replies, strict=True):
            cert = verifier.verify(request.candidate(reply, mode), intent=request.intent)
            passed = {s.stage: s.passed for s in cert.stages}
            counts["compile"] += passed.get("validate", False)
            counts["deploy"] += passed.get("plan", False)
            counts["correct"] += passed.get("plan", False) and passed.get("intent", False)
        rate = tokens / seconds
        base_rate = rate if mode == "none" else base_rate
        line = (f"{mode:6} tasks={len(tasks)} "
                + " ".join(f"{k}={v}/{len(tasks)}" for k, v in counts.items())
                + f" tokens={tokens} seconds={seconds:.1f} tok_s={rate:.2f} mask_s={mask:.2f}")
        if mode != "none" and base_rate:
            line += f" overhead={base_rate / rate - 1:+.0%} target<={TARGET_OVERHEAD:.0%}"
        print(line, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("accept")
    a.add_argument("tasks", nargs="+")
    a.add_argument("--limit", type=int)
    c = sub.add_parser("compare")
    c.add_argument("tasks")
    c.add_argument("--tasks", dest="count", type=int, default=20)
    c.add_argument("--model", default="tuned")
    c.add_argument("--max-new-tokens", type=int, default=384)
    c.add_argument("--modes", default="none,syntax,schema")
    args = parser.parse_args()
    if args.command == "accept":
        accept(args.tasks, args.limit)
    else:
        compare(args.tasks, args.count, args.model, args.max_new_tokens, args.modes.split(","))


if __name__ == "__main__":
    main()
