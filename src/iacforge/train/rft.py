"""`iacforge train rft`: rejection-sampling fine-tuning (expert iteration) on verifier verdicts.

Each round samples `k` answers per training prompt with the current policy (the local backend,
batched, constrained decoding `schema` by default), verifies them all in batches on one pool
with the verdict cache, keeps per prompt the best passing answer (highest reward, ties: the
shortest), and fine-tunes on what it kept (`run_sft`, warm-started from the previous round's
adapter). With `turns` > 1 a failing first answer is repaired with its certificate's feedback
(the repair loop's turn: `generate.repair_messages`), and a repair that passes is kept too, as
an example whose prompt is the repair conversation.

Sampling and verification are the eval harness's (`run_eval`: a run directory keyed by task,
sample and turn), so a stopped round resumes where it stopped; the held-out evaluation
(`eval_tasks`) is the same harness with one sample per task. Every round lives in
`<out>/round-<i>/` (`sample/`, `kept.jsonl`, `sft/`, `eval/`, and `done.json` when finished):
a re-run skips finished rounds and resumes a half-done SFT from its last checkpoint.
`<out>/rounds.jsonl` has one line per finished round.

>>> RFTRun(tasks="t.jsonl", out="o").k
4
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iacforge.certificate import Certificate
from iacforge.data.loaders import load_tasks
from iacforge.data.task import Task
from iacforge.errors import IacforgeError
from iacforge.generate import repair_messages
from iacforge.llm.base import Backend, Constrain, Sampling
from iacforge.train.data import answer_of, prompt_of
from iacforge.train.rewards import REWARD_STAGES
from iacforge.train.sft import SFTRun, run_sft

#: What a round is told about progress: (what, units done, units planned) — `sample` (first
#: answers), `sft` (optimizer steps) or `eval` (held-out tasks).
OnProgress = Callable[[str, int, int], None]
DONE = "done.json"


@dataclass(frozen=True, kw_only=True)
class RFTRun(SFTRun):
    """One RFT run: rounds of sample → verify → keep the best passing → SFT (the SFTRun
    fields are each round's SFT)."""

    rounds: int = 2
    #: Answers sampled per prompt and round.
    k: int = 4
    #: Turns per sample, the first included: > 1 repairs failing answers and keeps the repairs.
    turns: int = 1
    max_new_tokens: int = 512
    temperature: float = 0.9
    constrain: Constrain = "schema"
    #: Verifier stages an answer must pass to be kept (intent where a task has a policy).
    stages: tuple[str, ...] = REWARD_STAGES
    workers: int | None = None
    cache: bool = True
    #: Sequences generated together.
    gen_batch: int = 8
    #: Replies from this backend instead of the policy (e.g. `scripted:FILE.json`: tests and
    #: dry runs; the policy is still the one fine-tuned).
    sampler: str | None = None
    #: The SFT of each round: SFTRun's fields, with these defaults.
    learning_rate: float = 1e-4
    save_steps: int = 25
    #: Held-out tasks scored after every round (one sample each, seed `seed`).
    eval_tasks: str | Path | None = None
    eval_limit: int | None = None

    def __post_init__(self) -> None:
        if self.rounds < self.least_rounds:
            raise IacforgeError(f"rounds must be at least {self.least_rounds}, not {self.rounds}")
        if self.k < 1 or self.turns < 1 or self.gen_batch < 1:
            raise IacforgeError("k, turns and gen_batch must be at least 1")
        if self.constrain not in ("schema", "syntax", "none"):
            raise IacforgeError(f"constrain must be schema, syntax or none, not {self.constrain}")
        super().__post_init__()

    @property
    def least_rounds(self) -> int:
        return 1

    def sft_run(self, out: Path, adapter: str | Path | None, **changes: Any) -> SFTRun:
        """An SFT with this run's SFTRun fields (and `changes`), writing to `out`, starting
        from `adapter`: each round's, and the recipe's first."""
        own = {f.name: getattr(self, f.name) for f in dataclasses.fields(SFTRun)}
        return SFTRun(**{**own, "out": out, "adapter": adapter, **changes})

    def sampling(self, seed: int) -> Sampling:
        """The sampling of the answers (a round's own `seed`)."""
        return Sampling(max_new_tokens=self.max_new_tokens, temperature=self.temperature,
                        seed=seed, constrain=self.constrain)


def run_rft(run: RFTRun, tasks: list[Task] | None = None, *,
            on_progress: OnProgress | None = None,
            on_round: Callable[[dict[str, Any]], Any] | None = None) -> dict[str, Any]:
    """Run (or resume) every round; returns the summary (also `<out>/train_summary.json`).

    `on_progress` hears `round-<i>/sample|sft|eval` progress, `on_round` every round's row."""
    tasks = (tasks if tasks is not None else load_tasks(run.tasks))[:run.limit]
    if not tasks:
        raise IacforgeError(f"{run.tasks}: no tasks")
    held_out = (load_tasks(run.eval_tasks)[:run.eval_limit] if run.eval_tasks else [])
    out = Path(run.out)
    out.mkdir(parents=True, exist_ok=True)
    adapter = run.adapter
    rows: list[dict[str, Any]] = []
    for index in range(1, run.rounds + 1):
        row = run_round(run, index, tasks, held_out, adapter, on_progress)
        rows.append(row)
        if on_round is not None:
            on_round(row)
        adapter = row["adapter"]
        (out / "rounds.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    summary = {"method": "rft", "tasks": len(tasks), "run": run.to_json(), "rounds": rows,
               "adapter": adapter}
    (out / "train_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def run_round(run: RFTRun, index: int, tasks: Sequence[Task], held_out: Sequence[Task],
              adapter: str | Path | None, on_progress: OnProgress | None = None
              ) -> dict[str, Any]:
    """One round in `<out>/round-<index>/`; a finished one is read back, not run again."""
    where = Path(run.out) / f"round-{index}"
    on_progress = _prefixed(on_progress, f"round-{index}/")
    if (where / DONE).is_file():
        row = json.loads((where / DONE).read_text())
        print(round_line(row) + " (done before)", flush=True)
        return row
    where.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    seed = run.seed + 1000 * (index - 1)  # a new draw every round
    records = _sample(run, where / "sample", tasks, adapter, seed, on_progress)
    sampled = time.monotonic() - start
    examples, stats = keep_best(tasks, records)
    (where / "kept.jsonl").write_text("".join(json.dumps(e) + "\n" for e in examples))
    trained: dict[str, Any] = {"steps": 0, "train_loss": None}
    if examples:
        trained = sft_once(run.sft_run(where / "sft", adapter), examples, on_progress)
        adapter = str(where / "sft")
    scores = evaluate(run, where / "eval", held_out, adapter, on_progress) if held_out else None
    row = {"round": index, **stats, "sft_steps": trained["steps"],
           "train_loss": trained["train_loss"],
           "adapter": None if adapter is None else str(adapter),
           "sample_seconds": round(sampled, 1),
           "seconds": round(time.monotonic() - start, 1), "eval": scores}
    (where / DONE).write_text(json.dumps(row, indent=2) + "\n")
    print(round_line(row), flush=True)
    return row


def _prefixed(on_progress: OnProgress | None, prefix: str) -> OnProgress | None:
    if on_progress is None:
        return None
    outer = on_progress
    return lambda what, done, total: outer(prefix + what, done, total)


def round_line(row: dict[str, Any]) -> str:
    """The printed line of a round."""
    text = (f"round {row['round']}: {row['samples']} samples, pass rate "
            f"{row['sample_pass_rate']:.1%}, kept {row['kept_examples']} "
            f"({row['kept_repairs']} repairs), {row['prompts_without_pass']} of "
            f"{row['prompts']} prompts with no passing sample, {row['sft_steps']} SFT steps, "
            f"{row['seconds']:.0f} s")
    if row.get("eval"):
        text += f"; held-out {scores_text(row['eval'])}"
    return text


def scores_text(scores: dict[str, Any]) -> str:
    """Held-out compile / deploy / correct in words (n/a: a stage that was not run)."""
    def pct(value: float | None) -> str:
        return "n/a" if value is None else f"{value:.1%}"

    return (f"compile {pct(scores['compile'])}, deploy {pct(scores['deploy'])}, "
            f"correct {pct(scores['correct'])} ({scores['tasks']} tasks)")


def keep_best(tasks: Sequence[Task], records: Sequence[dict[str, Any]]
              ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The SFT examples a round keeps, and its counts.

    Per task: the best passing first answer (highest reward, ties: the shortest answer), and
    the best passing repair (its prompt is the repair conversation that led to it). The
    answer is the candidate's files as fenced, named blocks (`train.data.answer_of`): for a
    mutation, only the files it changed."""
    by_task: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        by_task.setdefault(record["task_id"], []).append(record)
    examples: list[dict[str, Any]] = []
    first = [r for r in records if r["turn"] == 1]
    repairs = without = 0
    for task in tasks:
        mine = by_task.get(task.id, [])
        for turn_one in (True, False):
            passing = [r for r in mine if r["passed"] and (r["turn"] == 1) == turn_one]
            if not passing:
                continue
            best = max(passing, key=lambda r: (r["reward"] or 0.0, -len(_answer(task, r))))
            examples.append({"prompt": _prompt(task, best, by_task[task.id]),
                             "completion": [{"role": "assistant",
                                             "content": _answer(task, best)}],
                             "task_id": task.id, "turn": best["turn"],
                             "reward": best["reward"]})
            repairs += not turn_one
        without += not any(r["passed"] for r in mine)
    passed = sum(r["passed"] for r in first)
    return examples, {
        "prompts": len(tasks), "samples": len(first),
        "sample_pass_rate": passed / len(first) if first else 0.0,
        "repair_attempts": len(records) - len(first),
        "repairs_passed": sum(r["passed"] for r in records if r["turn"] > 1),
        "kept_examples": len(examples), "kept_repairs": repairs,
        "prompts_without_pass": without}


def _answer(task: Task, record: dict[str, Any]) -> str:
    files = {f["name"]: f["text"] for f in record["files"]}
    return answer_of(dataclasses.replace(task, reference=files))


def _prompt(task: Task, record: dict[str, Any], mine: list[dict[str, Any]]) -> list[dict]:
    """The prompt `record` answered: the first prompt, or the repair conversation of its turn."""
    first = prompt_of(task)
    if record["turn"] == 1:
        return first
    previous = next(r for r in mine
                    if r["sample"] == record["sample"] and r["turn"] == record["turn"] - 1)
    return repair_messages(first, previous["reply"],
                           Certificate.from_dict(previous["certificate"]))


def _backend(run: RFTRun, adapter: str | Path | None) -> Backend:
    from iacforge.llm.registry import BackendOptions, load_backend

    spec = run.sampler or run.model or "embedded"
    return load_backend(spec, BackendOptions(adapter=None if adapter is None else str(adapter),
                                             batch_size=run.gen_batch))


def _harness(run: RFTRun, where: Path, tasks: Sequence[Task], adapter: str | Path | None,
             config: Any, what: str, on_progress: OnProgress | None) -> list[dict[str, Any]]:
    """Generate and verify `tasks` into the run directory `where` (resumable)."""
    from iacforge.config import Settings
    from iacforge.eval.harness import open_run, run_eval
    from iacforge.verify.cache import VerdictCache, default_path
    from iacforge.verify.pipeline import Verifier
    from iacforge.verify.pool import open_pool

    settings = Settings.from_env()
    spec = run.sampler or run.model or "embedded"
    run_dir = open_run(where, tasks, config, spec, {"adapter": str(adapter)})
    verifier = Verifier(settings, config.stages)
    cache = VerdictCache(default_path(settings)) if run.cache else None
    pool = open_pool("local", run.workers or settings.workers)

    def report(progress: Any) -> None:
        if on_progress is not None:
            on_progress(what, progress.done, progress.total)

    try:
        return run_eval(tasks, run_dir, config, backend=_backend(run, adapter),
                        verifier=verifier, pool=pool, cache=cache, on_progress=report)
    finally:
        pool.close()


def _sample(run: RFTRun, where: Path, tasks: Sequence[Task], adapter: str | Path | None,
            seed: int, on_progress: OnProgress | None) -> list[dict[str, Any]]:
    from iacforge.eval.harness import EvalConfig

    config = EvalConfig(samples=run.k, turns=run.turns, ks=(1,), stages=run.stages,
                        sampling=run.sampling(seed), chunk=max(1, run.gen_batch // run.k))
    return _harness(run, where, tasks, adapter, config, "sample", on_progress)


def evaluate(run: RFTRun, where: Path, tasks: Sequence[Task], adapter: str | Path | None,
              on_progress: OnProgress | None) -> dict[str, Any]:
    """Held-out compile / deploy / correct, overall and by kind (one sample per task)."""
    from iacforge.eval.harness import EvalConfig, results_of
    from iacforge.eval.rundir import RunDir

    config = EvalConfig(samples=1, turns=1, stages=run.stages,
                        sampling=dataclasses.replace(run.sampling(run.seed), temperature=0.7),
                        chunk=run.gen_batch)
    _harness(run, where, tasks, adapter, config, "eval", on_progress)
    results = results_of(RunDir.read(where))
    return held_out_scores(tasks, results)


def held_out_scores(tasks: Sequence[Task], results: dict[str, Any]) -> dict[str, Any]:
    """compile / deploy / correct of an eval's results, overall and for each task kind."""
    kind = {t.id: t.kind for t in tasks}
    scores: dict[str, Any] = {"tasks": len(tasks)}
    for group in (None, "generate", "mutate"):
        rows = [r for r in results["tasks"] if group is None or kind[r["task_id"]] == group]
        rates = {}
        for name in ("compile", "deploy", "correct"):
            counts = [r["counts"][name] for r in rows if name in r["counts"]]
            total = sum(n for _, n in counts)
            rates[name] = sum(c for c, _ in counts) / total if total else None
        if group is None:
            scores.update(rates)
        elif rows:
            scores[group] = {"tasks": len(rows), **rates}
    return scores


def sft_once(run: SFTRun, examples: list[dict[str, Any]] | None,
             on_progress: OnProgress | None) -> dict[str, Any]:
    """SFT on `examples` (None: the tasks' references), or the summary of the SFT that
    finished in `run.out` before; a half-done one resumes from its last checkpoint."""
    summary = Path(run.out) / "train_summary.json"
    if summary.is_file():
        return json.loads(summary.read_text())
    rows = examples and [{"prompt": e["prompt"], "completion": e["completion"]}
                         for e in examples]
    callbacks = [StepProgress(on_progress)] if on_progress else None
    return run_sft(run, examples=rows, callbacks=callbacks)


class StepProgress:
    """A TrainerCallback that reports optimizer steps as `sft` progress."""

    def __init__(self, on_progress: OnProgress) -> None:
        self.on_progress = on_progress

    def on_train_begin(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        self.on_progress("sft", state.global_step, state.max_steps)

    def on_step_end(self, args: Any, state: Any, control: Any, **_: Any) -> None:
        self.on_progress("sft", state.global_step, state.max_steps)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("on_"):  # every other event: nothing to do
            return lambda *args, **kwargs: None
        raise AttributeError(name)
