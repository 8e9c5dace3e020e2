"""Curation: ingested modules → verified generation tasks, repairing failures with an LLM.

For each module: verify it (validate, plan); when it fails, run the repair loop
(`iacforge.generate.run_loop`) for up to `turns` turns, the first prompt carrying the
certificate's feedback and every later one the new certificate's; have the LLM write the
English request for the verified configuration (falling back to a symbolic description when
its reply is not usable, which the outcome records); derive the intent symbolically from the
plan (`intent_from_plan`) and keep the task only when the verifier confirms the intent
passes on the configuration. Every module gets one line in `curation.jsonl` saying what
happened and why, with its provenance; the run resumes from that file.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path
from random import Random
from typing import Any

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.data.describe import noun, request
from iacforge.data.from_hcl import spec_from_files
from iacforge.data.ingest import Module
from iacforge.data.intent import intent_from_plan
from iacforge.data.schema import provider_schema
from iacforge.data.synth import difficulty_of_count
from iacforge.data.task import Task, policy_name
from iacforge.generate import LoopConfig, Request, run_loop
from iacforge.llm.base import Backend, Sampling
from iacforge.prompts import render
from iacforge.render.feedback import render_feedback
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import verify_all
from iacforge.verify.rego import RegoError, evaluate
from iacforge.verify.stages.intent import judge

#: Shortest English request (in words) accepted from the model.
MIN_WORDS = 6


@dataclass(frozen=True)
class Outcome:
    """What curation did with one module."""

    module_id: str
    status: str  # "verified" | "repaired" | "unrepaired" | "no-intent" | "unreadable"
    turns: int = 0
    reason: str = ""
    prompt_by: str = ""  # "llm" | "symbolic" | ""
    task_id: str | None = None


class Curator:
    """Curates modules into `out/tasks.jsonl`, logging each in `out/curation.jsonl`."""

    def __init__(self, out: Path, backend: Backend, settings: Settings | None = None, *,
                 turns: int = 5, sampling: Sampling | None = None) -> None:
        self.out = Path(out)
        self.backend = backend
        self.verifier = Verifier(settings, stages=("validate", "plan"))
        self.turns = turns
        self.sampling = sampling or Sampling(max_new_tokens=1024, temperature=0.2, seed=0)
        self.counts: Counter[str] = Counter()

    def run(self, modules: Iterable[Module], *, chunk: int = 32) -> Iterator[Outcome]:
        """Curate each module not curated yet (first verified `chunk` at a time, in batched
        terraform runs); yields each outcome as it is written."""
        self.out.mkdir(parents=True, exist_ok=True)
        done = self._done()
        todo = [m for m in modules if m.id not in done]
        for start in range(0, len(todo), chunk):
            part = todo[start:start + chunk]
            readable = [m for m in part if not m.problems and m.files]
            certs = dict(zip((m.id for m in readable), verify_all(
                [m.candidate() for m in readable], verifier=self.verifier,
                workers=self.verifier.settings.workers, progress=False), strict=True))
            for module in part:
                yield self._log(module, self.curate(module, certs.get(module.id)))

    def _log(self, module: Module, outcome: Outcome) -> Outcome:
        self.counts[outcome.status] += 1
        with (self.out / "curation.jsonl").open("a", encoding="utf-8") as log:
            provenance = {k: v for k, v in module.to_record().items() if k not in ("files", "id")}
            log.write(json.dumps({**asdict(outcome), **provenance}) + "\n")
        return outcome

    def curate(self, module: Module, cert: Certificate | None = None) -> Outcome:
        """Curate one module; `cert`: its certificate when it was already verified."""
        candidate = module.candidate()
        if candidate.problems or not candidate.files:
            return Outcome(module.id, "unreadable", reason="; ".join(candidate.problems))
        cert = cert or self.verifier.verify(candidate)
        status, turns, files = "verified", 0, candidate.files
        if not cert.passed:
            repaired = self.repair(candidate, cert)
            turns = repaired.turns_used
            if not repaired.passed:
                return Outcome(module.id, "unrepaired", turns, repaired.best.certificate.why())
            status, files, cert = "repaired", repaired.best.candidate.files, \
                repaired.best.certificate
        intent = intent_from_plan(cert.plan or {})
        if intent is None:
            return Outcome(module.id, "no-intent", turns, "the plan configures no resources")
        problem = _intent_problem(IntentPolicy(intent, policy_name(module.id)), cert)
        if problem:
            return Outcome(module.id, "no-intent", turns, f"derived intent: {problem}")
        prompt, by = self.describe(files, cert)
        task = Task(id=module.id, kind="generate", prompt=prompt, intent=intent,
                    reference=files, difficulty=difficulty_of_count(len(_types(cert))),
                    resources=tuple(dict.fromkeys(_types(cert))),
                    source=f"ingest:{module.candidate().source}")
        with (self.out / "tasks.jsonl").open("a", encoding="utf-8") as out:
            out.write(json.dumps(task.to_record(), ensure_ascii=False) + "\n")
        return Outcome(module.id, status, turns, prompt_by=by, task_id=task.id)

    def repair(self, candidate: Candidate, cert: Certificate) -> Any:
        """The repair loop, started from the failing configuration and its certificate."""
        request = Request("Fix this configuration so that terraform validate and plan "
                          "succeed, keeping what it creates. The verifier reported:\n\n"
                          + render_feedback(cert), files=candidate.files)
        config = LoopConfig(samples=1, turns=self.turns, sampling=self.sampling)
        return run_loop(self.backend, self.verifier, request, config)

    def describe(self, files: dict[str, str], cert: Certificate) -> tuple[str, str]:
        """The English request for a configuration: the LLM's, or a symbolic fallback."""
        template = resources.files(__package__).joinpath("curate_describe.md").read_text()
        blocks = "\n".join(render("file", lang="hcl", name=name, text=text)
                           for name, text in sorted(files.items()))
        messages = [{"role": "user", "content": template.replace("{{files}}", blocks)}]
        # a description is English: no HCL grammar (a local model defaults to one)
        english = dataclasses.replace(self.sampling, constrain="none")
        reply = self.backend.generate([messages], 1, english)[0][0].strip()
        if len(reply.split()) >= MIN_WORDS and "```" not in reply and "resource \"" not in reply:
            return reply, "llm"
        spec = spec_from_files(files, provider_schema())
        if spec is not None:
            return request(spec, Random(json.dumps(sorted(files.items())))), "symbolic"
        counts = Counter(_types(cert))
        return "Create " + "; ".join(noun(t) if n == 1 else f"{n} × {noun(t)}"
                                     for t, n in counts.items()) + ".", "symbolic"

    def _done(self) -> set[str]:
        path = self.out / "curation.jsonl"
        if not path.is_file():
            return set()
        return {json.loads(line)["module_id"] for line in path.read_text().splitlines()
                if line.strip()}


def _intent_problem(policy: IntentPolicy, cert: Certificate) -> str | None:
    """Why the intent stage would not pass `policy` on the certificate's plan, or None.

    The same evaluation and judgement the intent stage makes, on the plan this certificate
    already holds: no second terraform run for the same files."""
    try:
        document = evaluate(policy, cert.plan or {})
    except RegoError as exc:
        return f"does not evaluate: {exc.message}"
    metrics, diagnostics = judge(document, policy.top_rule)
    if metrics["iac_eval_pass"] and metrics["strict_pass"]:
        return None
    return next((d.summary for d in diagnostics if d.severity == "error"), "does not pass")


def _types(cert: Certificate) -> list[str]:
    resources_ = (cert.plan or {}).get("configuration", {}).get("root_module", {}).get(
        "resources", [])
    return [r["type"] for r in resources_ if r.get("mode") == "managed"]


