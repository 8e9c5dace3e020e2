"""`iacforge train recipe`: one sitting's whole round — SFT, held-out eval, RFT rounds — resumable.

The SFT starts from the shipped adapter (`iacforge.llm.tuned.tuned_adapter()`), a given one, or
(`from_scratch`) a fresh LoRA, so sittings add up instead of starting over; then `rounds` of
RFT (`train.rft`) start from what the SFT made, each scored on the held-out tasks. bf16
autocast and packed rows are on by default. Every stage is idempotent on its folder under
`out` (`sft/`, `sft-eval/`, `rft/round-<i>/`): the same command after a stop skips what is
finished and resumes the rest from its checkpoint or run directory. `Eta` prints progress:
units done of units planned per stage (optimizer steps, samples, eval tasks) and an ETA from
the seconds per unit measured in this sitting. `<out>/recipe.json` has every stage's result.

>>> Recipe(tasks="t.jsonl", out="o").bf16
True
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from iacforge.data.loaders import load_tasks
from iacforge.errors import IacforgeError
from iacforge.train.rft import RFTRun, evaluate, run_rft, scores_text, sft_once
from iacforge.train.sft import SFTRun

#: Seconds between two progress lines (a stage's end always prints).
PRINT_EVERY = 10.0


@dataclass(frozen=True, kw_only=True)
class Recipe(RFTRun):
    """SFT (`sft_steps`, `sft_learning_rate`), then `rounds` of RFT (the RFTRun fields; their
    `max_steps` and `learning_rate` are each round's SFT)."""

    bf16: bool = True
    rounds: int = 1
    max_steps: int = 20
    #: Steps of the first SFT (-1: `epochs` passes; 0: no SFT).
    sft_steps: int = 200
    sft_learning_rate: float = 2e-4
    #: Start from a fresh LoRA instead of the shipped adapter (when `adapter` is not given).
    from_scratch: bool = False

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.sft_steps < -1:
            raise IacforgeError(f"sft_steps must be -1 (the epochs), 0 (no SFT) or more, "
                                f"not {self.sft_steps}")

    @property
    def least_rounds(self) -> int:
        return 0  # the SFT (and its eval) alone: what scripts/gpu_recipe runs

    def start_adapter(self) -> str | None:
        """The adapter the SFT starts from: the given one, the shipped one, or none."""
        if self.adapter is not None:
            return str(self.adapter)
        if self.from_scratch:
            return None
        from iacforge.llm.tuned import tuned_adapter

        return str(tuned_adapter())

    def sft(self) -> SFTRun:
        return self.sft_run(Path(self.out) / "sft", self.start_adapter(),
                            learning_rate=self.sft_learning_rate, max_steps=self.sft_steps)

    def rft(self, adapter: str | None) -> RFTRun:
        given = {f.name: getattr(self, f.name) for f in fields(RFTRun)}
        return RFTRun(**{**given, "out": Path(self.out) / "rft", "adapter": adapter,
                         "rounds": max(1, self.rounds)})


class Eta:
    """Progress of a plan of stages: units done / planned, seconds per unit measured here."""

    def __init__(self, stages: list[tuple[str, int]]) -> None:
        #: stage → [done, planned]; a stage's kind is the last part of its name.
        self.stages = {name: [0, planned] for name, planned in stages}
        self._seen: dict[str, tuple[float, int]] = {}
        self._measured: dict[str, list[float]] = {}  # kind → [seconds, units]
        self._printed = 0.0

    def update(self, stage: str, done: int, planned: int) -> None:
        """A stage reports `done` of `planned` units (a resumed stage's first report sets
        where it starts; only what is done after that counts toward the speed)."""
        now = time.monotonic()
        self.stages.setdefault(stage, [0, planned])[:] = [done, max(planned, done)]
        if stage in self._seen:
            then, before = self._seen[stage]
            if done > before:
                seconds_units = self._measured.setdefault(_kind(stage), [0.0, 0])
                seconds_units[0] += now - then
                seconds_units[1] += done - before
                self._seen[stage] = (now, done)
        else:
            self._seen[stage] = (now, done)
        if now - self._printed >= PRINT_EVERY or done >= planned:
            self._printed = now
            print(self.line(stage), flush=True)

    def finish(self, stage: str) -> None:
        """A stage is done (or was done before this sitting)."""
        entry = self.stages.setdefault(stage, [0, 0])
        entry[0] = entry[1] = max(entry)

    def per_unit(self, kind: str) -> float | None:
        seconds, units = self._measured.get(kind, (0.0, 0))
        return seconds / units if units else None

    def remaining(self) -> tuple[float, list[str]]:
        """Seconds left by the measured speeds, and the kinds left that have none yet."""
        seconds, unknown = 0.0, set()
        for stage, (done, planned) in self.stages.items():
            rate = self.per_unit(_kind(stage))
            if planned > done:
                if rate is None:
                    unknown.add(_kind(stage))
                else:
                    seconds += (planned - done) * rate
        return seconds, sorted(unknown)

    def line(self, stage: str) -> str:
        done, planned = self.stages[stage]
        rate = self.per_unit(_kind(stage))
        left, unknown = self.remaining()
        total_done = sum(d for d, _ in self.stages.values())
        total = sum(p for _, p in self.stages.values())
        text = f"[recipe] {stage} {done}/{planned}"
        if rate is not None:
            text += f" · {rate:.1f} s/{_kind(stage)} unit"
        text += f" · all stages {total_done}/{total} units · ETA {_duration(left)}"
        if unknown:
            text += f" + {', '.join(unknown)} (not measured yet)"
        return text


def run_recipe(recipe: Recipe) -> dict[str, Any]:
    """Run (or resume) the recipe; returns and writes `<out>/recipe.json`."""
    tasks = load_tasks(recipe.tasks)[:recipe.limit]
    held_out = (load_tasks(recipe.eval_tasks)[:recipe.eval_limit]
                if recipe.eval_tasks else [])
    out = Path(recipe.out)
    out.mkdir(parents=True, exist_ok=True)
    plan: list[tuple[str, int]] = []
    if recipe.sft_steps:
        plan += [("sft", max(recipe.sft_steps, 0))]
        plan += [("sft/eval", len(held_out))] if held_out else []
    for index in range(1, recipe.rounds + 1):
        plan += [(f"round-{index}/sample", len(tasks) * recipe.k),
                 (f"round-{index}/sft", max(recipe.max_steps, 0))]
        plan += [(f"round-{index}/eval", len(held_out))] if held_out else []
    eta = Eta(plan)
    report: dict[str, Any] = {"recipe": recipe.to_json(), "stages": {}}
    start = time.monotonic()
    adapter = recipe.start_adapter()
    if recipe.sft_steps:
        sft = recipe.sft()
        report["stages"]["sft"] = sft_once(sft, None, lambda _, d, n: eta.update("sft", d, n))
        eta.finish("sft")
        adapter = str(sft.out)
        if held_out:
            report["stages"]["sft/eval"] = evaluate(
                recipe, out / "sft-eval", held_out, adapter,
                lambda _, d, n: eta.update("sft/eval", d, n))
            eta.finish("sft/eval")
            print(f"[recipe] SFT held-out: {scores_text(report['stages']['sft/eval'])}", flush=True)
    if recipe.rounds:
        summary = run_rft(recipe.rft(adapter), tasks,
                          on_progress=lambda stage, d, n: eta.update(stage, d, n),
                          on_round=lambda row: [eta.finish(f"round-{row['round']}/{part}")
                                                for part in ("sample", "sft", "eval")])
        report["stages"]["rft"] = summary["rounds"]
        adapter = summary["adapter"]
    report["adapter"] = adapter
    report["seconds"] = round(time.monotonic() - start, 1)
    (out / "recipe.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"[recipe] done in {_duration(report['seconds'])}; adapter: {adapter}", flush=True)
    return report


def _kind(stage: str) -> str:
    return stage.rsplit("/", 1)[-1]


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"
