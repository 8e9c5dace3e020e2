"""Verification throughput: iacforge against the naive per-candidate pipeline (IaC-Eval's).

The naive pipeline is what IaC-Eval's harness does for every candidate, one after another:
write the code to a fresh directory, `terraform init` (here from the offline filesystem
mirror), `terraform plan -out`, `terraform show -json`, then evaluate the Rego intent on the
plan (regorus here; the harness calls opa) and judge it by IaC-Eval's rule. Both sides plan
the same normalised files against the same moto emulator, and both start with the emulator
and the provider mirror already in place.

iacforge verifies the whole corpus as `verify_batched` does (every stage, batched
terraform runs on the machine's cores, no verdict cache). The verdicts must agree: plan
fails, or plan passes and the intent passes / fails / is absent.

    python bench/verify_throughput.py [--naive-workers 1] [--batch-size 32] [--iacforge-only]
                                      [--executor local|ray]

After iacforge's run, a breakdown goes to stderr: wall time of its phases (batched terraform
runs, then the stages of every candidate), and the summed wall time and count of each kind
of terraform command and of each bounded in-process step (summed over threads, so they may
add up to more than the phase that ran them).

`--executor ray` verifies through `verify_all` on a local Ray of the same cores (each Ray worker
batches its chunk); `scripts/setup` installs Ray in the same environment (see README).

Progress goes to stderr; the last line of stdout is
`naive_s=<x> iacforge_s=<y> ratio=<x/y> agree=<k>/<n>`.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.hcl.normalise import normalise
from iacforge.verify import bounded
from iacforge.verify.batch import batched
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import open_pool, verify_all
from iacforge.verify.rego import RegoError, evaluate
from iacforge.verify.sandbox.process import run_process
from iacforge.verify.stages.intent import iac_eval_leaves
from iacforge.verify.terraform import runner
from iacforge.verify.terraform.emulator import aws_env, shared_server
from iacforge.verify.terraform.runner import Terraform

REGIONS = ("us-east-1", "us-west-2", "eu-west-1")

VERSIONING_V1 = """package terraform.validation

import rego.v1

default is_valid := false

is_valid if {
    some change in input.resource_changes
    change.type == "aws_s3_bucket_versioning"
    some configuration in change.change.after.versioning_configuration
    configuration.status == "Enabled"
}
"""

INSTANCES_V0 = """package terraform.validation

default is_valid = false

instance_types[t] {
    r := input.planned_values.root_module.resources[_]
    r.type == "aws_instance"
    t := r.values.instance_type
}

is_valid {
    count(instance_types) > 0
    not instance_types["t2.2xlarge"]
}
"""

QUEUE_V1 = """package terraform.validation

import rego.v1

default is_valid := false

is_valid if {
    some r in input.configuration.root_module.resources
    r.type == "aws_sqs_queue"
    r.expressions.message_retention_seconds.constant_value <= 345600
}
"""


def _bucket(i: int, region: str, status: str) -> str:
    return f'''provider "aws" {{
  region = "{region}"
}}

resource "aws_s3_bucket" "b" {{
  bucket = "bench-bucket-{i}"
}}

resource "aws_s3_bucket_versioning" "v" {{
  bucket = aws_s3_bucket.b.id
  versioning_configuration {{
    status = "{status}"
  }}
}}
'''


def _instance(i: int, region: str, instance_type: str) -> str:
    return f'''provider "aws" {{
  region = "{region}"
}}

data "aws_ami" "ubuntu" {{
  most_recent = true
  owners      = ["099720109477"]
  filter {{
    name   = "name"
    values = ["ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"]
  }}
}}

data "aws_availability_zones" "zones" {{}}

resource "aws_instance" "web" {{
  ami               = data.aws_ami.ubuntu.id
  instance_type     = "{instance_type}"
  availability_zone = data.aws_availability_zones.zones.names[0]
  tags = {{
    Name = "web-{i}"
  }}
}}
'''


def _queue(i: int, retention: int) -> str:
    return f'''variable "name" {{
  type    = string
  default = "bench-queue-{i}"
}}

resource "aws_sqs_queue" "q" {{
  name                      = var.name
  message_retention_seconds = {retention}
}}

output "url" {{
  value = aws_sqs_queue.q.url
}}
'''


_BROKEN_VALIDATE = (
    'resource "aws_sqs_queue" "q" {\n  nme = "typo-%d"\n}\n',
    'resource "aws_iam_role" "r" {\n  name = "no-policy-%d"\n}\n',
    'resource "aws_s3_bucket_versioning" "v" {\n  bucket = aws_s3_bucket.missing.id\n'
    '  versioning_configuration {\n    status = "Enabled"\n  }\n}\n# %d\n',
    'resource "aws_sns_topic" "t" {\n  name = var.undeclared_%d\n}\n',
    'resource "aws_sqs_queue" "q" {\n  name = "q%d"\n  lifecycle {\n    create_before = true\n'
    '  }\n}\n',
)
_BROKEN_PLAN = (
    'data "aws_ami" "custom" {\n  owners = ["self"]\n  filter {\n    name   = "name"\n'
    '    values = ["none-%d-*"]\n  }\n}\n',
    'resource "aws_s3_bucket" "b" {\n  bucket_prefix = "p%d"\n}\n\n'
    'resource "aws_s3_bucket_policy" "p" {\n  count  = aws_s3_bucket.b.id == "" ? 0 : 1\n'
    '  bucket = aws_s3_bucket.b.id\n  policy = "{}"\n}\n',
    'locals {\n  size = %d\n}\n\nresource "aws_sqs_queue" "q" {\n  name = "q"\n  lifecycle {\n'
    '    precondition {\n      condition     = local.size > 50\n'
    '      error_message = "too small"\n    }\n  }\n}\n',
)


def corpus() -> Iterator[tuple[str, Candidate, IntentPolicy | None]]:
    """36 candidates: valid with intents that pass and fail, and broken at every stage."""
    versioning = IntentPolicy(VERSIONING_V1, "versioning_v1.rego")
    instances = IntentPolicy(INSTANCES_V0, "instances_v0.rego")
    queues = IntentPolicy(QUEUE_V1, "queue_v1.rego")
    for i in range(12):
        status = "Enabled" if i % 3 else "Suspended"
        yield f"bucket-{i}", _candidate(_bucket(i, REGIONS[i % 3], status)), versioning
    for i in range(6):
        size = "t2.2xlarge" if i % 3 == 0 else "t3.micro"
        yield f"instance-{i}", _candidate(_instance(i, REGIONS[i % 2], size)), instances
    for i in range(5):
        yield f"queue-{i}", _candidate(_queue(i, 86400 * (1 + 4 * (i % 2)))), queues
    for i, text in enumerate(_BROKEN_VALIDATE):
        yield f"validate-fail-{i}", _candidate(text % i), versioning if i % 2 else None
    for i, text in enumerate(_BROKEN_PLAN):
        yield f"plan-fail-{i}", _candidate(text % i), instances if i % 2 else None
    for i in range(3):
        text = _bucket(100 + i, "us-east-1", "Enabled").replace("}\n\nresource", "\nresource", 1)
        yield f"parse-fail-{i}", _candidate(text), versioning
    yield "no-provider-block", _candidate(_queue(99, 60)), None
    yield "region-from-variable", _candidate(
        'variable "region" {\n  default = "us-west-2"\n}\n\nprovider "aws" {\n'
        '  region = var.region\n}\n\nresource "aws_sns_topic" "t" {\n  name = "t"\n}\n'), None


def _candidate(text: str) -> Candidate:
    return Candidate({"main.tf": text}, source="bench")


def naive_verdict(candidate: Candidate, intent: IntentPolicy | None, tf: Terraform,
                  env: dict[str, str]) -> str:
    """init + plan + show + Rego in a fresh directory, as IaC-Eval's harness does."""
    files = normalise(candidate.files, terraform_version=tf.version,
                      aws_version=tf.aws_version).files
    with tempfile.TemporaryDirectory(prefix="naive-") as tmp:
        workdir = Path(tmp)
        for name, text in files.items():
            (workdir / name).write_text(text)
        base = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": tmp, "CHECKPOINT_DISABLE": "1",
                "TF_IN_AUTOMATION": "1", "TF_CLI_CONFIG_FILE": str(tf.base / "cli.tfrc")}
        for argv in (["init", "-input=false", "-no-color"],
                     ["plan", "-input=false", "-no-color", "-lock=false", "-out=tfplan"]):
            if run_process([tf.binary, *argv], cwd=workdir, env=base | env,
                           timeout=300).returncode != 0:
                return "plan-fail"
        shown = run_process([tf.binary, "show", "-json", "tfplan"], cwd=workdir,
                            env=base | env, timeout=300)
        plan = json.loads(shown.stdout)
    if intent is None:
        return "plan-pass"
    try:
        document = evaluate(intent, plan, engine="regorus")
    except RegoError:
        return "intent-error"
    false = any(isinstance(v, int | float) and v == 0 for _, v in iac_eval_leaves(document))
    return "intent-fail" if false else "intent-pass"


def iacforge_verdict(cert: Certificate) -> str:
    """The same verdict classes, read from a certificate."""
    if not cert.passes("plan"):
        return "plan-fail"
    intent = cert.stage("intent")
    if intent is None:
        return "plan-pass"
    return {"pass": "intent-pass", "fail": "intent-fail"}.get(intent.status, "intent-error")


class Breakdown:
    """Wall time and count per named part of iacforge's run, summed over threads."""

    def __init__(self) -> None:
        self.parts: dict[str, list[float]] = defaultdict(lambda: [0.0, 0])
        self._lock = threading.Lock()

    def add(self, name: str, seconds: float) -> None:
        with self._lock:
            self.parts[name][0] += seconds
            self.parts[name][1] += 1

    def timed(self, fn: Callable, name: Callable[..., str]) -> Callable:
        """`fn`, adding each call's wall time under `name(*args)`."""
        @functools.wraps(fn)
        def wrapper(*args: object, **kwargs: object) -> object:
            start = time.monotonic()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name(*args), time.monotonic() - start)
        return wrapper

    def install(self) -> None:
        """Time terraform runs (by subcommand), bounded steps (by stage) and the batch phases."""
        tf = runner.Terraform
        tf._sandboxed = self.timed(tf._sandboxed, lambda _self, argv, *a: f"terraform {argv[1]}")
        bounded.run = self.timed(bounded.run, lambda fn, *args: "bounded " + (
            args[0] if args and isinstance(args[0], str) else fn.__name__))
        batched.record = self.timed(batched.record, lambda *a: "phase: batched terraform runs")
        batched.jobs_for = self.timed(batched.jobs_for, lambda *a: "phase: choose what to batch")

    def table(self, total: float) -> str:
        rows = [f"  {name:<34} {seconds:7.1f} s {count:5d}x"
                for name, (seconds, count) in sorted(self.parts.items())]
        return "\n".join(["breakdown (wall seconds, calls):", *rows,
                          f"  {'phase: total':<34} {total:7.1f} s"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--naive-workers", type=int, default=1,
                        help="candidates the naive pipeline runs at once (IaC-Eval: 1)")
    parser.add_argument("--batch-size", type=int, default=batched.BATCH_SIZE,
                        help="most candidates per terraform run")
    parser.add_argument("--executor", choices=["local", "ray"], default="local",
                        help="local: batched runs in this process; ray: chunks as Ray tasks")
    parser.add_argument("--iacforge-only", action="store_true",
                        help="time iacforge alone (to compare batch sizes)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    items = list(corpus())
    breakdown = Breakdown()
    breakdown.install()
    settings = Settings.from_env()
    verifier = Verifier(settings)
    tf = verifier.terraform
    print(f"{len(items)} candidates; terraform {tf.version}, aws {tf.aws_version}, "
          f"{settings.workers} workers; preparing the provider base and the emulator",
          file=sys.stderr)
    env = aws_env(shared_server().endpoint, settings.region)
    tf.base  # noqa: B018 - prepared once, outside both timings

    candidates, intents = [c for _, c, _ in items], [i for _, _, i in items]
    if args.executor == "ray":
        pool = open_pool("ray", settings.workers)  # Ray's start-up is not timed
    start = time.monotonic()
    if args.executor == "ray":
        certs = verify_all(candidates, intents, verifier=verifier, pool=pool, progress=False)
        pool.close()
    else:
        certs = batched.verify_batched(verifier, candidates, intents, batch_size=args.batch_size)
    iacforge_s = time.monotonic() - start
    print(f"iacforge ({args.executor}): {iacforge_s:.1f} s", file=sys.stderr)
    print(breakdown.table(iacforge_s), file=sys.stderr)
    if args.iacforge_only:
        return 0

    def naive(item: tuple[str, Candidate, IntentPolicy | None]) -> str:
        name, candidate, intent = item
        verdict = naive_verdict(candidate, intent, tf, env)
        print(f"  naive {name}: {verdict}", file=sys.stderr)
        return verdict

    start = time.monotonic()
    with ThreadPoolExecutor(args.naive_workers) as pool:
        naive_verdicts = list(pool.map(naive, items))
    naive_s = time.monotonic() - start
    agree = 0
    for (name, _, _), cert, expected in zip(items, certs, naive_verdicts, strict=True):
        got = iacforge_verdict(cert)
        agree += got == expected
        if got != expected:
            print(f"DISAGREE {name}: naive {expected}, iacforge {got}", file=sys.stderr)
    print(f"naive_s={naive_s:.1f} iacforge_s={iacforge_s:.1f} ratio={naive_s / iacforge_s:.1f} "
          f"agree={agree}/{len(items)}")
    return 0 if agree == len(items) else 1


if __name__ == "__main__":
    sys.exit(main())
