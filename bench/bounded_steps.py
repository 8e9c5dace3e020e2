"""Peak memory on hostile candidates, and the per-candidate cost of the bounded workers.

1. Verifies memory and recursion bombs (doubling locals that checkov evaluates, deep
   `.tf.json`, a Rego policy that builds a 10^8-element array) with the in-process stages, and
   prints the peak RSS of this process and of its children (the bounded workers), which must
   stay under 1 GiB.
2. Runs parse, screen, security and lint on a small candidate, in bounded workers (through
   the pipeline) and directly in this process (the baseline), and prints the median time of
   each and the overhead per candidate.

Last line: `self_peak_mb=… children_peak_mb=… bounded_ms=… inprocess_ms=… overhead_ms=…
ratio=<bounded/inprocess> ok=<peaks under 1 GiB>`

    .venv/bin/python bench/bounded_steps.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
from pathlib import Path

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.hcl.extract import from_path
from iacforge.verify import bounded
from iacforge.verify.context import StageContext
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier, _timed
from iacforge.verify.stages import STAGES

EXAMPLE = Path(__file__).parents[1] / "examples" / "pass_queue"
STEPS = ("parse", "screen", "security", "lint")
GIB_KB = 1 << 20


def bombs() -> list[str]:
    """Run every hostile fixture; the status each ended with."""
    doubling = ['locals {', '  a0 = "xxxxxxxx"'] + [
        f'  a{i} = "${{local.a{i - 1}}}${{local.a{i - 1}}}"' for i in range(1, 30)] + ["}"]
    deep = '{"locals": {"x": ' + "[" * 100_000 + "]" * 100_000 + "}}"
    verifier = Verifier(Settings(), stages=list(STEPS))
    out = [verifier.verify(Candidate({"main.tf": "\n".join(doubling) + "\n"})).status,
           verifier.verify(Candidate({"main.tf.json": deep})).status]
    policy = IntentPolicy("package bomb\n\nimport rego.v1\n\n"
                          "big := [i | some i in numbers.range(1, 100000000)]\n")
    ctx = StageContext(Candidate({"main.tf": ""}), Settings(), intent=policy, plan={})
    out.append(_timed(STAGES["intent"], ctx).status)
    return out


def per_candidate(repeats: int) -> tuple[float, float]:
    """Median seconds of the four steps on the example: bounded, and in this process."""
    candidate = from_path(EXAMPLE)
    verifier = Verifier(Settings(), stages=list(STEPS))
    verifier.verify(candidate)  # start the workers
    walled = []
    for _ in range(repeats):
        start = time.perf_counter()
        verifier.verify(candidate)
        walled.append(time.perf_counter() - start)
    direct = []
    for _ in range(repeats + 1):
        ctx = StageContext(candidate, Settings())
        start = time.perf_counter()
        for name in ("extract", *STEPS):
            STAGES[name].run(ctx)
        direct.append(time.perf_counter() - start)
    return statistics.median(walled), statistics.median(direct[1:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    statuses = bombs()
    print(f"bombs ended: {', '.join(statuses)}")
    bounded_s, direct_s = per_candidate(args.repeats)
    bounded.close()  # the workers end, so their peaks count among the children's
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    print(f"self_peak_mb={own / 1024:.0f} children_peak_mb={children / 1024:.0f} "
          f"bounded_ms={bounded_s * 1e3:.1f} inprocess_ms={direct_s * 1e3:.1f} "
          f"overhead_ms={(bounded_s - direct_s) * 1e3:.1f} ratio={bounded_s / direct_s:.2f} "
          f"ok={own < GIB_KB and children < GIB_KB}")


if __name__ == "__main__":
    main()
