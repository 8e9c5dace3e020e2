"""Threat: candidates (and policies) that exhaust the verifier's own process: memory bombs
that checkov evaluates, nesting that runs a parser out of stack, steps that never end.

Each in-process step runs in a bounded worker (verify/bounded.py); every bomb ends as a stage
result with one line saying which bound, the test process lives on, and the next candidate is
judged as usual.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.hcl.model import TerraformModel
from iacforge.hcl.parse import MAX_BYTES, parse_files
from iacforge.verify import bounded
from iacforge.verify.context import StageContext
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier, _timed
from iacforge.verify.pool import verify_all
from iacforge.verify.stages import STAGES

from .conftest import PERMISSIVE

IN_PROCESS = ["parse", "screen", "security", "lint"]
GOOD = 'variable "name" {\n  type        = string\n  description = "a name"\n}\n'


def doubling_locals(levels: int = 30) -> str:
    """Locals that each double the one before: ~8 GB of string by the last one."""
    lines = ["locals {", '  a0 = "xxxxxxxx"']
    lines += [f'  a{i} = "${{local.a{i - 1}}}${{local.a{i - 1}}}"' for i in range(1, levels)]
    return "\n".join([*lines, "}", ""])


BOMBS = {
    "memory: doubling locals": {"main.tf": doubling_locals()},
    "memory: a file over the parse bound": {"main.tf": "#" * (MAX_BYTES + 1) + "\n"},
    "recursion: deep HCL brackets": {"main.tf": "locals {\n  x = " + "[" * 5000 + "]" * 5000
                                     + "\n}\n"},
    "recursion: a long chain of operators": {"main.tf": "locals {\n  x = "
                                             + "+".join(["1"] * 3000) + "\n}\n"},
    "recursion: deep .tf.json": {"main.tf.json": '{"locals": {"x": ' + "[" * 100_000
                                 + "]" * 100_000 + "}}"},
    "recursion: deep .tf.json objects": {"main.tf.json": '{"locals": {"x": ' + '{"a":' * 600
                                         + "1" + "}" * 600 + "}}"},
}


def verifier(**settings: object) -> Verifier:
    # the screen lets everything through, so that each bomb reaches every in-process step
    return Verifier(Settings(**settings), stages=IN_PROCESS,
                    options=VerifierOptions(screen_policy=PERMISSIVE))


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_a_bomb_ends_unsafe_with_one_line_and_the_next_candidate_is_judged(name):
    bomb, good = Candidate(BOMBS[name]), Candidate({"main.tf": GOOD})
    first, second = verify_all([bomb, good], verifier=verifier(), workers=1)
    assert first.status == "unsafe"
    (stopped,) = [s for s in first.stages if s.status == "unsafe"]
    (reason,) = stopped.diagnostics
    assert reason.rule_id.startswith("iacforge/bound/")
    assert "\n" not in reason.summary + reason.detail
    alone = verifier().verify(good)
    assert [(s.status, s.diagnostics) for s in second.stages] == [
        (s.status, s.diagnostics) for s in alone.stages]


def test_the_doubling_locals_exhaust_checkov_not_the_verifier():
    cert = verifier().verify(Candidate(BOMBS["memory: doubling locals"]))
    security = cert.stage("security")
    assert (security.status, security.diagnostics[0].rule_id) == ("unsafe",
                                                                  "iacforge/bound/memory")


@pytest.mark.parametrize("stage", ["parse", "screen", "security", "lint"])
def test_each_step_runs_under_the_memory_bound(stage, monkeypatch):
    """With a budget below what a plain 1000-resource candidate needs, each step runs out."""
    monkeypatch.setattr(bounded, "_POOL", bounded._Pool(budget=2 << 20))
    ctx = _context(_many_resources(1000), timeout=30)
    if stage != "parse":
        ctx.model = _parsed(ctx)
    result = _timed(STAGES[stage], ctx)
    assert result.status in ("unsafe", "error")  # error: out of memory in native code
    # a worker starved this hard may also stall in its allocator until the time bound ends it
    assert result.diagnostics[0].rule_id in ("iacforge/bound/memory", "iacforge/bound/crash",
                                             "iacforge/bound/time")
    bounded._POOL.close()


@pytest.mark.parametrize("stage", ["parse", "screen", "security", "lint"])
def test_each_step_runs_under_the_time_bound(stage):
    ctx = _context(_many_resources(1000), timeout=0.01)
    if stage != "parse":
        ctx.model = _parsed(ctx)
    result = _timed(STAGES[stage], ctx)
    assert (result.status, result.diagnostics[0].rule_id) == ("error", "iacforge/bound/time")
    summary = f"{stage} exceeded a bound: did not finish within 0.01 s"
    assert result.diagnostics[0].summary == summary


REGO_BOMBS = {
    # regorus builds a hundred-million-element array: out of memory in Rust, the worker dies
    "memory": "package bomb\n\nimport rego.v1\n\n"
              "big := [i | some i in numbers.range(1, 100000000)]\n",
    # a literal nested 100,000 deep: regorus's parser runs out of stack
    "recursion": "package bomb\n\nx := " + "[" * 100_000 + "]" * 100_000 + "\n",
}


@pytest.mark.parametrize("kind", sorted(REGO_BOMBS))
def test_a_rego_bomb_is_an_intent_error_and_regorus_still_works(kind):
    ctx = _context(GOOD, intent=IntentPolicy(REGO_BOMBS[kind], name="bomb.rego"))
    ctx.plan = {"resource_changes": []}
    result = _timed(STAGES["intent"], ctx)
    assert result.status == "error"  # the task's policy, not the candidate, ran out
    assert result.diagnostics[0].rule_id.startswith(("iacforge/bound/", "rego-"))
    ok = _context(GOOD, intent=IntentPolicy("package ok\n\nallow := true\n", name="ok.rego"))
    ok.plan = {"resource_changes": []}
    assert _timed(STAGES["intent"], ok).status == "pass"


def test_the_verifier_process_stays_under_1_gib_on_every_bomb():
    """A fresh process verifies every bomb; its own peak (VmHWM) is what the bombs cost it,
    whatever earlier tests loaded into the test process."""
    script = (
        "import json, sys\n"
        "from tests.hostile.test_bombs import BOMBS, verifier\n"
        "from iacforge.candidate import Candidate\n"
        "from iacforge.verify.pool import verify_all\n"
        "certs = verify_all([Candidate(f) for f in BOMBS.values()], verifier=verifier(),"
        " workers=1)\n"
        "peak = next(int(l.split()[1]) for l in open('/proc/self/status')"
        " if l.startswith('VmHWM:'))\n"
        "print(json.dumps([[c.status for c in certs], peak]))\n")
    root = Path(__file__).parents[2]
    done = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True,
                          text=True, timeout=600, check=True)
    statuses, peak = json.loads(done.stdout.strip().splitlines()[-1])
    assert statuses == ["unsafe"] * len(BOMBS)
    assert peak < 1 << 20  # KiB: under 1 GiB


def _many_resources(count: int) -> str:
    return "".join(f'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "bucket-{i}"\n'
                   f'  tags = {{ name = "b{i}", owner = "team" }}\n}}\n' for i in range(count))


def _context(text: str, *, timeout: float = 120.0, intent: IntentPolicy | None = None
             ) -> StageContext:
    return StageContext(Candidate({"main.tf": text}), Settings(timeout=timeout), intent=intent,
                        options=VerifierOptions(screen_policy=PERMISSIVE))


def _parsed(ctx: StageContext) -> TerraformModel | None:
    return parse_files(ctx.candidate.files).model
