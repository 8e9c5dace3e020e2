"""Many candidates' terraform in one run: lay them out as modules of one root, run it, split the
plan and the diagnostics back to each candidate (batched.py, layout.py, run.py, attribution.py,
eligible.py, plan_split.py)."""

from iacforge.verify.batch.batched import BATCH_SIZE, verify_batched

__all__ = ["BATCH_SIZE", "verify_batched"]
