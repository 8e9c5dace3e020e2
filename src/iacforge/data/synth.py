"""The symbolic synthesizer: verified generation and mutation tasks without an LLM.

Seed `i` picks family `FAMILIES[i mod n]` (and, sometimes, a second one to combine with it);
seeds of a family that has written its share of the generation tasks (equal shares, or the
`weights` given) are skipped, so families whose seeds get dropped are not left short;
the family makes a spec; the spec gives the reference configuration, an English request
(`describe`) and a Rego intent (`intent`). Mutations are symbolic edits of the same spec
(`mutations`). Every task is verified before it is written — generation tasks must pass
validate, plan and intent; a mutation's target must pass them and its initial configuration
must plan and FAIL the intent — and the rest are dropped and counted with the reason.

Output, in `out/`: `generate.jsonl` and `mutate.jsonl` (task records, `Task.to_record`),
`rejected.jsonl` (id, source, reason) and `synth.json` (the counts). Runs resume: a seed whose
generation task is in either file is skipped. Same seed, same task.

>>> task, spec = generation_task("sqs", 7)
>>> task.id, task.source, task.kind
('synth-sqs-000007', 'synth:sqs:7', 'generate')
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from random import Random
from typing import Any

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.data.describe import request
from iacforge.data.families import FAMILIES
from iacforge.data.intent import intent_for_spec
from iacforge.data.mutations import Mutation, mutate
from iacforge.data.schema import provider_schema, settable, unknown_arguments
from iacforge.data.spec import Resource, Spec
from iacforge.data.task import Task
from iacforge.formal import FORMAL_STAGES
from iacforge.verify.batch import BATCH_SIZE
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import verify_all

REGIONS = ("us-east-1", "us-east-1", "us-east-1", "us-west-2", "eu-west-1")
#: Probability that a task combines two families.
COMBINE = 0.2
FILES = {"generate": "generate.jsonl", "mutate": "mutate.jsonl", "rejected": "rejected.jsonl"}


def spec_for(family: str, seed: int) -> tuple[Spec, Random]:
    """The spec of seed `seed` of `family`, and the Random that continues its stream."""
    rng = Random(f"synth:{family}:{seed}")
    region = rng.choice(REGIONS)
    resources = FAMILIES[family](rng, region)
    if rng.random() < COMBINE:
        other = rng.choice(sorted(set(FAMILIES) - {family}))
        more = FAMILIES[other](rng, region)
        if not {r.address for r in more} & {r.address for r in resources}:
            resources += more
    return Spec(tuple(resources), region), rng


def difficulty(spec: Spec) -> str:
    """"1" … "5" by the number of blocks (IaC-Eval's scale also grows with resources)."""
    return difficulty_of_count(len(spec.resources))


def difficulty_of_count(n: int) -> str:
    return str(1 + (n > 2) + (n > 4) + (n > 6) + (n > 9))


def generation_task(family: str, seed: int) -> tuple[Task, Spec]:
    spec, rng = spec_for(family, seed)
    task = Task(id=f"synth-{family}-{seed:06d}", kind="generate", prompt=request(spec, rng),
                intent=intent_for_spec(spec), reference=spec.render(),
                difficulty=difficulty(spec), resources=spec.types,
                source=f"synth:{family}:{seed}")
    return task, spec


def mutation_task(mutation: Mutation, family: str, seed: int) -> Task:
    return Task(id=f"synth-mut-{family}-{seed:06d}-{mutation.op}", kind="mutate",
                prompt=mutation.request, files=mutation.initial.render(),
                intent=mutation.intent, reference=mutation.target.render(),
                difficulty=difficulty(mutation.target), resources=mutation.target.types,
                source=f"synth:{family}:{seed}:{mutation.op}",
                description=f"mutation: {mutation.op}")


def mutation_of(spec: Spec, key: str, *, family: str | None = None, tries: int = 4
                ) -> Mutation | None:
    """A mutation of `spec` (the first of `tries` drawn ops that applies), deterministic in
    `key`; an `extend` adds a family other than `family`."""
    rng = Random(f"mutate:{key}")
    schema = provider_schema()

    def taggable(type_: str) -> bool:
        return "tags" in settable(type_, schema)

    def extra(r: Random) -> list[Resource]:
        other = r.choice(sorted(set(FAMILIES) - {family or ""}))
        return FAMILIES[other](r, spec.region)

    for _ in range(tries):
        found = mutate(spec, rng, taggable=taggable, extra=extra)
        if found is not None and not unknown_arguments(found.target, schema):
            return found
    return None


@dataclass
class Counts:
    """What a run wrote and dropped."""

    generate: int = 0
    mutate: int = 0
    rejected: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    #: Per family: tasks written and dropped ("generate", "mutate", "rejected").
    families: dict[str, Counter[str]] = field(default_factory=dict)

    def tally(self, family: str, what: str) -> None:
        self.families.setdefault(family, Counter())[what] += 1

    def to_dict(self) -> dict[str, Any]:
        return {"generate": self.generate, "mutate": self.mutate,
                "rejected": dict(self.rejected.most_common()), "seconds": round(self.seconds, 1),
                "families": {name: dict(c) for name, c in sorted(self.families.items())}}


@dataclass
class _Draft:
    task: Task
    spec: Spec
    mutation: Task | None = None


class Synthesizer:
    """Writes verified synthetic tasks to a directory, resumably.

    Args:
        out: the output directory.
        verifier: verifies every task (default: a Verifier running validate, plan, intent).
        batch_size: candidates per terraform run (None: the verifier's default).
        families: the families to draw from (default: all of `FAMILIES`).
        weights: each family's share of the generation tasks, relative (default: equal).
    """

    def __init__(self, out: Path, verifier: Verifier | None = None, *,
                 batch_size: int | None = None, families: Sequence[str] | None = None,
                 weights: dict[str, float] | None = None) -> None:
        self.out = Path(out)
        self.verifier = verifier or Verifier(stages=FORMAL_STAGES)
        self.batch_size = batch_size
        self.families = list(families or FAMILIES)
        unknown = (set(self.families) | set(weights or {})) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}; choose from {sorted(FAMILIES)}")
        self.weights = {f: float((weights or {}).get(f, 1.0)) for f in self.families}
        if any(w < 0 for w in self.weights.values()) or not any(self.weights.values()):
            raise ValueError("family weights must be >= 0 and not all 0")

    def quotas(self, count: int) -> dict[str, int]:
        """Generation tasks each family should write for `count` in all (rounded up)."""
        total = sum(self.weights.values())
        return {f: math.ceil(count * w / total) for f, w in self.weights.items()}

    def run(self, count: int, mutations: int, *, chunk: int = 128, start: int = 0,
            max_seeds: int | None = None,
            on_chunk: Callable[[Counts], None] | None = None) -> Counts:
        """Write tasks until `count` generation and `mutations` mutation tasks exist."""
        self.out.mkdir(parents=True, exist_ok=True)
        counts, done = self._resume()
        started = time.monotonic()
        ratio = min(1.0, 1.3 * mutations / count) if count else 1.0
        quotas = self.quotas(count)
        cursor, stop = start, max_seeds or 4 * max(count, mutations) + start
        while counts.generate < count or counts.mutate < mutations:
            batch, cursor = self._batch(chunk, cursor, stop, done, counts, quotas)
            if not batch:
                break
            want_mutations = counts.mutate < mutations
            drafts = [self._draft(i, want_mutations and Random(i).random() < ratio, counts)
                      for i in batch]
            self._verify_and_write([d for d in drafts if d is not None], counts)
            counts.seconds += time.monotonic() - started
            started = time.monotonic()
            self._write_summary(counts)
            if on_chunk:
                on_chunk(counts)
        return counts

    def _batch(self, chunk: int, cursor: int, stop: int, done: set[str], counts: Counts,
               quotas: dict[str, int]) -> tuple[list[int], int]:
        """Up to `chunk` seeds from `cursor` on, skipping seeds already done and seeds of
        families that have (or will have, with the seeds taken) their share; once every
        family has its share (mutations still wanted), all families again. Returns the seeds
        and the next cursor."""
        wanted = Counter({f: quotas[f] - counts.families.get(f, Counter())["generate"]
                          for f in self.families})
        full = all(n <= 0 for n in wanted.values())
        batch: list[int] = []
        while len(batch) < chunk and cursor < stop:
            family = self.families[cursor % len(self.families)]
            if f"synth:{family}:{cursor}" not in done and (full or wanted[family] > 0):
                batch.append(cursor)
                wanted[family] -= 1
            cursor += 1
        return batch, cursor

    def _draft(self, i: int, with_mutation: bool, counts: Counts) -> _Draft | None:
        family = self.families[i % len(self.families)]
        task, spec = generation_task(family, i)
        problems = unknown_arguments(spec, provider_schema())
        if problems:
            self._reject(task, f"schema: {problems[0]}", counts)
            return None
        draft = _Draft(task, spec)
        if with_mutation:
            found = mutation_of(spec, f"{family}:{i}", family=family)
            draft.mutation = mutation_task(found, family, i) if found else None
        return draft

    def _verify_and_write(self, drafts: list[_Draft], counts: Counts) -> None:
        candidates: list[Candidate] = []
        intents: list[IntentPolicy | None] = []
        for d in drafts:
            candidates.append(Candidate(d.task.reference, source=d.task.id))
            intents.append(d.task.policy())
            if d.mutation is not None:
                policy = d.mutation.policy()
                candidates += [Candidate(d.mutation.reference, source=d.mutation.id),
                               Candidate(d.mutation.files, source=f"{d.mutation.id}:initial")]
                intents += [policy, policy]
        certs = iter(_verify(self.verifier, candidates, intents, self.batch_size))
        with self._open("generate") as gen, self._open("mutate") as mut:
            for d in drafts:
                cert = next(certs)
                if cert.passed:
                    gen.write(_line(d.task.to_record()))
                    counts.generate += 1
                    counts.tally(_family(d.task.source), "generate")
                else:
                    self._reject(d.task, f"generate: {cert.why()}", counts)
                if d.mutation is None:
                    continue
                target, initial = next(certs), next(certs)
                reason = _mutation_problem(target, initial)
                if reason is None:
                    mut.write(_line(d.mutation.to_record()))
                    counts.mutate += 1
                    counts.tally(_family(d.mutation.source), "mutate")
                else:
                    self._reject(d.mutation, f"mutate: {reason}", counts)

    def _resume(self) -> tuple[Counts, set[str]]:
        counts, done = Counts(), set()
        for kind in FILES:
            path = self.out / FILES[kind]
            if not path.is_file():
                continue
            for line in path.read_text(encoding="utf-8").splitlines():
                if not line.strip():
                    continue
                row = json.loads(line)
                source = row.get("source", "")
                if kind == "generate":
                    counts.generate += 1
                elif kind == "mutate":
                    counts.mutate += 1
                else:
                    counts.rejected[row["reason"].split(":")[0]] += 1
                counts.tally(_family(source), "rejected" if kind == "rejected" else kind)
                if source.count(":") == 2:  # a generation task's source, kept or dropped
                    done.add(source)
        summary = self.out / "synth.json"
        if summary.is_file():
            counts.seconds = json.loads(summary.read_text()).get("seconds", 0.0)
        return counts, done

    def _reject(self, task: Task, reason: str, counts: Counts) -> None:
        counts.rejected[reason.split(":")[0]] += 1
        counts.tally(_family(task.source), "rejected")
        with self._open("rejected") as out:
            out.write(_line({"id": task.id, "source": task.source, "reason": reason}))

    def _open(self, kind: str) -> Any:
        return (self.out / FILES[kind]).open("a", encoding="utf-8")

    def _write_summary(self, counts: Counts) -> None:
        path = self.out / "synth.json"
        path.write_text(json.dumps(counts.to_dict(), indent=2) + "\n", encoding="utf-8")


def _verify(verifier: Verifier, candidates: list[Candidate], intents: list[IntentPolicy | None],
            batch_size: int | None) -> list[Certificate]:
    """`verify_all` on the settings' workers, `batch_size` candidates per terraform run."""
    return verify_all(candidates, intents, verifier=verifier, workers=verifier.settings.workers,
                      progress=False, batch_size=batch_size or BATCH_SIZE)


def verify_mutations(verifier: Verifier, tasks: Sequence[Task], batch_size: int | None = None
                     ) -> list[str | None]:
    """For each mutation task: None when its reference passes and its initial configuration
    plans but fails the intent; otherwise why not."""
    candidates: list[Candidate] = []
    intents: list[IntentPolicy | None] = []
    for task in tasks:
        policy = task.policy()
        candidates += [Candidate(task.reference, source=task.id),
                       Candidate(task.files, source=f"{task.id}:initial")]
        intents += [policy, policy]
    certs = _verify(verifier, candidates, intents, batch_size)
    return [_mutation_problem(t, i) for t, i in zip(certs[::2], certs[1::2], strict=True)]


def _mutation_problem(target: Certificate, initial: Certificate) -> str | None:
    if not target.passed:
        return f"target {target.why()}"
    plan, intent = initial.stage("plan"), initial.stage("intent")
    if plan is None or plan.status != "pass":
        return "initial does not plan"
    if intent is None or intent.status != "fail":
        return f"intent {'passes' if intent and intent.passed else 'errs'} on the initial"
    return None


def _family(source: str) -> str:
    """The family of a synthesized task's source (`synth:sqs:7:tag` → `sqs`)."""
    return source.split(":")[1] if source.count(":") >= 2 else "?"


def _line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False) + "\n"
