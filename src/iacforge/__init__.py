"""iacforge: trustworthy LLM-written Terraform.

>>> from iacforge import Candidate, Verifier
>>> Verifier(stages=["parse"]).verify(Candidate({"main.tf": "locals {}\\n"})).passed
True
"""

import iacforge._lark_cache  # noqa: F401 -- first: before anything imports hcl2
from iacforge._version import __version__
from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.reward import RewardWeights, reward
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier

__all__ = [
    "Candidate",
    "Certificate",
    "Diagnostic",
    "IntentPolicy",
    "RewardWeights",
    "Settings",
    "StageResult",
    "Verifier",
    "__version__",
    "reward",
]
