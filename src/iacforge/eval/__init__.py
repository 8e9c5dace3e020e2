"""Evaluation: the resumable harness, TerraFormer/IaC-Eval metrics and pass@k.

Item analysis (`iacforge.eval.irt`, scipy) and reports (`iacforge.eval.report`, matplotlib)
are imported from their modules, so that loading the harness stays light.
"""

from iacforge.eval.harness import EvalConfig, Progress, open_run, results_of, run_eval
from iacforge.eval.metrics import CRITERIA, Outcome, judge, outcomes, pass_at_k, summarise
from iacforge.eval.rundir import RunDir

__all__ = [
    "CRITERIA",
    "EvalConfig",
    "Outcome",
    "Progress",
    "RunDir",
    "judge",
    "open_run",
    "outcomes",
    "pass_at_k",
    "results_of",
    "run_eval",
    "summarise",
]
