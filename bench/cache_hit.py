"""Cache-hit time of a repeated candidate, against verifying it (the target: a hit in ≤ 5 ms).

Verifies examples/pass_queue with its intent policy and every stage once with a cold cache,
then asks for the same candidate again, through `CachedVerifier.verify` and through
`verify_all`, and prints as its last line:
`uncached_s=<x> hit_ms=<median> batch_hit_ms=<median> ratio=<x/hit> target_ms=5 ok=<bool>`

    .venv/bin/python bench/cache_hit.py [--repeats 200]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from iacforge.config import Settings
from iacforge.hcl.extract import from_path
from iacforge.verify.cache import CachedVerifier, VerdictCache
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import verify_all

EXAMPLE = Path(__file__).parents[1] / "examples" / "pass_queue"
TARGET_MS = 5.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()
    candidate = from_path(EXAMPLE)
    intent = IntentPolicy.from_file(EXAMPLE / "intent.rego")
    with tempfile.TemporaryDirectory() as tmp:
        cache = VerdictCache(Path(tmp) / "verdicts.sqlite3")
        verifier = Verifier(Settings.from_env())
        cached = CachedVerifier(verifier, cache)
        start = time.perf_counter()
        first = cached.verify(candidate, intent)
        uncached = time.perf_counter() - start
        assert first.status == "pass" and first.plan, first.status
        hits, batch_hits = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            again = cached.verify(candidate, intent)
            hits.append(time.perf_counter() - start)
            start = time.perf_counter()
            [batched] = verify_all([candidate], intent, verifier=verifier, cache=cache)
            batch_hits.append(time.perf_counter() - start)
            assert again == first == batched
        cache.close()
    hit_ms = statistics.median(hits) * 1000
    batch_ms = statistics.median(batch_hits) * 1000
    print(f"plan JSON {len(first.to_json(include_plan=True)) // 1024} KiB; "
          f"p95 hit {sorted(hits)[int(len(hits) * 0.95)] * 1000:.2f} ms")
    print(f"uncached_s={uncached:.2f} hit_ms={hit_ms:.2f} batch_hit_ms={batch_ms:.2f} "
          f"ratio={uncached * 1000 / hit_ms:.0f} target_ms={TARGET_MS:g} "
          f"ok={max(hit_ms, batch_ms) <= TARGET_MS}")


if __name__ == "__main__":
    main()
