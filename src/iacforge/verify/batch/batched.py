"""Verify many candidates with a few terraform runs, with the certificates of one-by-one runs.

Terraform's cost here is start-up: loading the 700 MB AWS provider and its schema takes most
of a validate (~3.5 s) and a plan (~6 s) of a small candidate. So candidates are verified in
batches: each becomes a child module of one generated root (see `layout`), one
`terraform validate`, one `plan` and one `show -json` serve them all (see `run`), and
each candidate gets back what terraform would have printed for it alone.

How a batched certificate stays equal to the one-by-one certificate: the stages do not
change at all. `verify_batched` runs the ordinary `Verifier.verify` on every candidate, with a
terraform whose runner (`Replay`) answers validate, plan and show from the batch's recordings
for that workspace's exact files, and runs terraform for real for anything it has no
recording of. So every judgement is made by the same stage code on the same terraform output;
the batch only decides what that output is, and it records nothing it is not sure of.

Candidates a child module cannot stand for are verified one by one (see `eligible`),
and so is any candidate whose batch output holds a diagnostic we cannot attribute with
certainty. Candidates that never reach terraform (failing extract or parse, unsafe file
names, offline gaps) need no recording either.
"""

from __future__ import annotations

import copy
import itertools
import logging
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.errors import IacforgeError
from iacforge.hcl.model import TerraformModel
from iacforge.hcl.normalise import normalise
from iacforge.hcl.parse import parse_files
from iacforge.verify import bounded
from iacforge.verify.batch.eligible import root_only
from iacforge.verify.batch.layout import Layout, Member, files_key, make_member
from iacforge.verify.batch.run import BatchRun, Recording
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier, emulator_endpoint, resolve_stages
from iacforge.verify.sandbox.process import ProcessResult
from iacforge.verify.sandbox.workspace import UnsafePath, safe_relative
from iacforge.verify.terraform.emulator import aws_env, new_account_id
from iacforge.verify.terraform.offline import offline_gaps
from iacforge.verify.terraform.runner import Runner, Terraform

log = logging.getLogger(__name__)

#: Most candidates per terraform run. Measured on 2 cores (see bench/verify_throughput.py).
BATCH_SIZE = 32


def verify_batched(verifier: Verifier, candidates: Sequence[Candidate],
                   intents: Sequence[IntentPolicy | None], *,
                   batch_size: int = BATCH_SIZE) -> list[Certificate]:
    """Certificates for `candidates` (each with its intent), equal to `verifier.verify`'s."""
    recordings = record(verifier, jobs_for(verifier, candidates, intents), batch_size=batch_size)
    replaying = replaying_verifier(verifier, recordings)
    return [replaying.verify(c, i) for c, i in zip(candidates, intents, strict=True)]


def jobs_for(verifier: Verifier, candidates: Sequence[Candidate],
             intents: Sequence[IntentPolicy | None]) -> dict[str, Job]:
    """What to batch, by workspace key: candidates that reach terraform and can be batched."""
    jobs: dict[str, Job] = {}
    for position, (candidate, intent) in enumerate(zip(candidates, intents, strict=True)):
        stages = resolve_stages(verifier.stages, with_intent=intent is not None)
        if "validate" not in stages:
            continue
        found = _batchable(candidate, verifier.terraform, verifier.settings.timeout)
        if isinstance(found, str):
            log.info("verifying %s one by one: %s", candidate.source or "a candidate", found)
            continue
        key = files_key(_encoded(found[0]))
        earlier = jobs.get(key)
        jobs[key] = Job(*found, plan="plan" in stages or (earlier is not None and earlier.plan),
                        positions=(earlier.positions if earlier else ()) + (position,))
    return jobs


def replaying_verifier(verifier: Verifier, recordings: dict[str, Recording]) -> Verifier:
    """`verifier` with a terraform that answers from `recordings` where it can."""
    if not recordings:
        return verifier
    return verifier.replace(terraform=replay_terraform(verifier.terraform, recordings))


@dataclass(frozen=True)
class Job:
    """A candidate to batch: its normalised files, its model, whether to plan it, and where
    it (or an identical candidate) is in the input."""

    files: dict[str, str]
    model: TerraformModel
    plan: bool
    positions: tuple[int, ...]


def record(verifier: Verifier, jobs: dict[str, Job], *,
           batch_size: int = BATCH_SIZE) -> dict[str, Recording]:
    """Run the jobs (by workspace key) in batches; the recordings made for each key.

    A single job is left to the one-by-one path: a batch of one saves nothing.
    """
    if len(jobs) < 2:
        return {}
    members = [make_member(index, job.files, job.model) for index, job in enumerate(jobs.values())]
    keys = list(jobs)
    plan = {m.index for m, job in zip(members, jobs.values(), strict=True) if job.plan}
    members.sort(key=lambda m: m.group_key or ("", 0))  # same provider block, same batch
    batches = split(members, batch_size, verifier.settings.workers)
    endpoint = emulator_endpoint() if plan else None

    def run(batch: list[Member]) -> dict[int, Recording]:
        layout = Layout({m.index: m for m in batch})
        env = (aws_env(endpoint, verifier.settings.region, new_account_id())  # one per batch
               if endpoint else {})
        runner = BatchRun(verifier.terraform, layout, env=env, timeout=verifier.settings.timeout)
        return runner.run(plan & set(layout.members))

    workers = max(1, min(verifier.settings.workers, len(batches)))
    with ThreadPoolExecutor(workers, thread_name_prefix="iacforge-batch") as pool:
        done = [item for found in pool.map(run, batches) for item in found.items()]
    recordings = {keys[index]: recording for index, recording in done if recording}
    log.info("batched %d candidates in %d runs of up to %d; %d got no recording", len(members),
             len(batches), max(len(b) for b in batches), len(members) - len(recordings))
    return recordings


def split(members: list[Member], batch_size: int, workers: int) -> list[list[Member]]:
    """Consecutive batches of at most `batch_size`, as even as can be, and at least one per
    worker when there are enough members to share (each batch costs a few provider starts)."""
    count = max(-(-len(members) // batch_size), min(workers, len(members) // 2), 1)
    size, extra = divmod(len(members), count)
    bounds = [i * size + min(i, extra) for i in range(count + 1)]
    return [members[a:b] for a, b in itertools.pairwise(bounds) if b > a]


def _batchable(candidate: Candidate, tf: Terraform, timeout: float
               ) -> tuple[dict[str, str], TerraformModel] | str:
    """The normalised files and model of a candidate the batch can take, or why it cannot.

    The candidate is parsed in a bounded worker (a hostile file must not hang this process).
    """
    if candidate.problems or not candidate.files:
        return "it has no readable Terraform files"
    try:
        model = bounded.run(parse_files, candidate.files, timeout=timeout).model
    except IacforgeError as exc:  # bounds exceeded, or the parser failed: one by one
        return f"it could not be parsed within bounds: {exc}"
    if model is None:
        return "it does not parse"
    try:
        files = {str(safe_relative(name)): text for name, text in candidate.files.items()}
    except UnsafePath:
        return "unsafe file names"
    if offline_gaps(model):
        return "it needs something offline runs do not have"
    reason = root_only(files, model)
    if reason:
        return reason
    return normalise(files, terraform_version=tf.version, aws_version=tf.aws_version).files, model


def _encoded(files: dict[str, str]) -> dict[str, bytes]:
    return {name: text.encode("utf-8", "surrogatepass") for name, text in files.items()}


class Replay:
    """A terraform runner that answers from recordings, and runs terraform for the rest.

    A recording is looked up by the exact files in the command's working directory and by
    the exact arguments, so it can only ever stand in for the command it was made for.
    """

    def __init__(self, recordings: dict[str, Recording], runner: Runner) -> None:
        self.recordings = recordings
        self.runner = runner

    def __call__(self, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
                 stdin: str | None = None) -> ProcessResult:
        found = self.recordings.get(workspace_key(cwd), {}).get(tuple(argv[1:]))
        if found is not None:
            return found
        return self.runner(argv, cwd=cwd, env=env, timeout=timeout, stdin=stdin)


def replay_terraform(terraform: Terraform, recordings: dict[str, Recording]) -> Terraform:
    """A copy of `terraform` (same binary, base and versions) that replays `recordings`."""
    replaying = copy.copy(terraform)
    replaying.runner = Replay(recordings, terraform.runner)
    return replaying


def workspace_key(workdir: Path) -> str:
    """`files_key` of the candidate files in a workspace (everything but what iacforge adds)."""
    files: dict[str, bytes] = {}
    for root, dirs, names in os.walk(workdir):
        rel = Path(root).relative_to(workdir)
        if rel == Path("."):
            dirs[:] = [d for d in dirs if d not in (".terraform", ".home")]
        for name in names:
            path = PurePosixPath(*rel.parts, name)
            if str(path) == ".terraform.lock.hcl":
                continue
            files[str(path)] = (Path(root) / name).read_bytes()
    return files_key(files)
