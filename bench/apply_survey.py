"""Survey the apply stage: which examples and fixtures plan but do not apply, and its cost.

    .venv/bin/python bench/apply_survey.py [--workers 2] [DIR ...]

Verifies every directory of examples/ and tests/fixtures/ holding `.tf` / `.tf.json` files (not
the local modules inside them) up to the apply stage, then prints each one's plan and apply
verdicts, the candidates that pass plan but not apply, and the median apply + destroy time,
as a ratio to the baseline: the median plan stage of the same candidates.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.diagnostics import StageResult
from iacforge.hcl.extract import from_path
from iacforge.verify.pipeline import Verifier

ROOT = Path(__file__).resolve().parents[1]
PLACES = (ROOT / "examples", ROOT / "tests" / "fixtures")


def root_modules() -> list[Path]:
    """Directories with Terraform files directly in them, minus those inside another one."""
    found = sorted({p.parent for place in PLACES for pattern in ("*.tf", "*.tf.json")
                    for p in place.rglob(pattern)})
    return [d for d in found if not any(other in d.parents for other in found)]


def stage(cert: Certificate, name: str) -> StageResult | None:
    return next((s for s in cert.stages if s.stage == name), None)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="candidates verified at once")
    parser.add_argument("dirs", nargs="*", type=Path,
                        help="root modules to survey (default: all of examples/, tests/fixtures/)")
    args = parser.parse_args()
    verifier = Verifier(Settings.from_env(), stages=["apply"])
    dirs = [d.resolve() for d in args.dirs] or root_modules()
    planned, plan_times, apply_times, stage_times = [], [], [], []
    start = time.monotonic()
    with ThreadPoolExecutor(args.workers) as pool:
        certs = pool.map(lambda d: verifier.verify(from_path(d)), dirs)
        for directory, cert in zip(dirs, certs, strict=True):  # each printed when it is done
            plan, applied = stage(cert, "plan"), stage(cert, "apply")
            name = directory.relative_to(ROOT) if directory.is_relative_to(ROOT) else directory
            if plan is None or applied is None or plan.status != "pass":
                print(f"{name}: plan {plan.status if plan else 'not run'}", flush=True)
                continue
            planned.append((name, applied))
            plan_times.append(plan.seconds)
            stage_times.append(applied.seconds)
            if "apply_seconds" in applied.metrics:
                apply_times.append(applied.metrics["apply_seconds"]
                                   + applied.metrics["destroy_seconds"])
            first = applied.diagnostics[0].summary[:160] if applied.diagnostics else ""
            print(f"{name}: plan pass, apply {applied.status} ({applied.seconds:.1f} s) {first}",
                  flush=True)
    wall = time.monotonic() - start
    not_applied = [(n, r.status) for n, r in planned if r.status != "pass"]
    print(f"\n{len(dirs)} root modules, {len(planned)} pass plan; of those "
          f"{sum(s == 'fail' for _, s in not_applied)} fail apply and "
          f"{sum(s == 'error' for _, s in not_applied)} end in error (the emulator could not "
          f"judge): {', '.join(f'{n} ({s})' for n, s in not_applied) or 'none'}")
    if apply_times:
        median_apply, median_plan = statistics.median(apply_times), statistics.median(plan_times)
        print(f"median terraform apply + destroy: {median_apply:.1f} s; whole apply stage "
              f"(with the teardown check): {statistics.median(stage_times):.1f} s; "
              f"ratio to the baseline (median plan stage, {median_plan:.1f} s): "
              f"{median_apply / median_plan:.2f}x; {args.workers} workers, wall {wall:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
