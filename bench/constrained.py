"""Constrained decoding: does the grammar accept valid references, and what does it buy?

`accept`: every task reference that passes `validate`, written in the reply form the prompts ask
for, checked against the `schema` grammar built for its own prompt and the `syntax` grammar,
then (`guards`) fed token by token through the real `schema` processor with every guard;
prints accepted / total and every reject with its reason (target: 100 %).

`distortion`: how far each way of keeping the grammar moves the text from what the model would
write: samples of a few prompts with no constraint, `mask` and `reject` (`--constrain-mode`);
for the samples the `schema` grammar accepts (as a prefix: the budget may cut them), the mean
per-token log-probability under the unconstrained model. `none`'s accepted samples are draws
from the model given the grammar; a mode whose mean sits below theirs skews the text.

`compare`: the repair loop's first turn (one sample per task, fixed seed) with `--constrain
none`, `syntax` and `schema` side by side on held-out tasks: compile / deploy / correct, new
tokens per second, and the overhead of each mode against `none` (target: ≤ 25 %).

    .venv/bin/python bench/constrained.py accept tests/fixtures/iac_eval_mini.csv data/test.jsonl
    .venv/bin/python bench/constrained.py compare data/test.jsonl --tasks 20 --model tuned
    .venv/bin/python bench/constrained.py distortion data/test.jsonl --prompts 2 --samples 8
"""

from __future__ import annotations

import argparse
import time

from iacforge.constrain.grammar import Mode, grammar_for
from iacforge.constrain.processor import Constraint
from iacforge.data.loaders import load_tasks
from iacforge.data.task import Task
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
    for name, mode in (("syntax", "syntax"), ("schema", "schema"), ("guards", "schema")):
        check = constraint.guarded if name == "guards" else constraint.accepts
        rejects = [(task.id, why) for task in valid
                   if (why := check(reply_form(task.reference), _grammar(mode, task)))]
        print(f"{name}: accepted {len(valid) - len(rejects)}/{len(valid)}")
        for task_id, why in rejects:
            print(f"  reject {task_id}: {why}")


def _grammar(mode: Mode, task: Task) -> str | None:
    """The grammar of `mode` for a task's request (its prompt and the files it starts from)."""
    return grammar_for(mode, task.prompt + "\n" + "\n".join(task.files.values()))


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


def distortion(path: str, prompts: int, samples: int, model: str, max_new_tokens: int,
               temperature: float) -> None:
    import torch

    from iacforge.constrain.grammar import prompt_grammar

    tasks = load_tasks(path)[:prompts]
    backend = load_backend(model)
    messages = [Request(t.prompt, dict(t.files)).first_prompt() for t in tasks]
    grammars = [prompt_grammar(m, "schema") for m in messages]
    constraint = Constraint(backend.tokenizer)  # type: ignore[attr-defined]
    base = None
    for label, constrain, how in (("none", "none", "mask"), ("mask", "schema", "mask"),
                                  ("reject", "schema", "reject")):
        sampling = Sampling(max_new_tokens=max_new_tokens, temperature=temperature, seed=0,
                            constrain=constrain, constrain_mode=how)  # type: ignore[arg-type]
        before = (backend.rejections, backend.masked)  # type: ignore[attr-defined]
        start = time.perf_counter()
        replies = backend.generate(messages, samples, sampling)
        seconds = time.perf_counter() - start
        scores = []
        for prompt, grammar, texts in zip(messages, grammars, replies, strict=True):
            for text in texts:
                if constraint.matcher(grammar).consume_tokens(
                        constraint.tokenizer.tokenize_str(text)):
                    scores.append(_mean_logprob(backend, prompt, text, torch))
        mean = sum(scores) / len(scores) if scores else float("nan")
        base = mean if label == "none" else base
        line = (f"{label:6} accepted={len(scores)}/{len(tasks) * samples} "
                f"mean_logprob={mean:.3f} seconds={seconds:.1f}")
        if label != "none" and base is not None:
            line += f" shift_vs_none={mean - base:+.3f}"
        if label == "reject":
            line += (f" rejections={backend.rejections - before[0]}"  # type: ignore[attr-defined]
                     f" masked_after_tries={backend.masked - before[1]}")  # type: ignore[attr-defined]
        print(line, flush=True)


def _mean_logprob(backend: object, prompt: list[dict[str, str]], text: str, torch: object) -> float:
    """The mean log-probability per token of `text` after `prompt`, under the bare model."""
    tok, model = backend.tokenizer, backend.model  # type: ignore[attr-defined]
    head = tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
    ids = tok(head + text, return_tensors="pt", add_special_tokens=False)["input_ids"]
    start = len(tok(head, add_special_tokens=False)["input_ids"])
    with torch.inference_mode():  # type: ignore[attr-defined]
        logits = model(ids.to(model.device)).logits[0, start - 1 : -1].float()
    logp = torch.log_softmax(logits, dim=-1)  # type: ignore[attr-defined]
    picked = logp.gather(1, ids[0, start:].to(model.device)[:, None])
    return float(picked.mean())


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
    d = sub.add_parser("distortion")
    d.add_argument("tasks")
    d.add_argument("--prompts", type=int, default=2)
    d.add_argument("--samples", type=int, default=8)
    d.add_argument("--model", default="embedded")
    d.add_argument("--max-new-tokens", type=int, default=64)
    d.add_argument("--temperature", type=float, default=0.7)
    args = parser.parse_args()
    if args.command == "accept":
        accept(args.tasks, args.limit)
    elif args.command == "distortion":
        distortion(args.tasks, args.prompts, args.samples, args.model, args.max_new_tokens,
                   args.temperature)
    else:
        compare(args.tasks, args.count, args.model, args.max_new_tokens, args.modes.split(","))


if __name__ == "__main__":
    main()
