"""Verify candidates: the stages, the pipeline that runs them, and the ways to run many.

The names below load on first use (PEP 562), so that importing one light submodule (say
`iacforge.verify.bounded`, in a forked worker) does not load terraform, the screen or checkov.

>>> from iacforge.verify import Verifier
>>> Verifier(stages=["parse"]).stages
('parse',)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from iacforge._lazy import lazy as _lazy_exports

if TYPE_CHECKING:  # what the names are, for type checkers
    from iacforge.verify.cache import CachedVerifier as CachedVerifier
    from iacforge.verify.cache import VerdictCache as VerdictCache
    from iacforge.verify.intent_policy import IntentPolicy as IntentPolicy
    from iacforge.verify.options import VerifierOptions as VerifierOptions
    from iacforge.verify.pipeline import Verifier as Verifier
    from iacforge.verify.pipeline import resolve_stages as resolve_stages
    from iacforge.verify.pool import verify_all as verify_all
    from iacforge.verify.stages import STAGES as STAGES

#: Each public name and the module that defines it.
_HOME = {
    "CachedVerifier": "iacforge.verify.cache",
    "IntentPolicy": "iacforge.verify.intent_policy",
    "STAGES": "iacforge.verify.stages",
    "VerdictCache": "iacforge.verify.cache",
    "Verifier": "iacforge.verify.pipeline",
    "VerifierOptions": "iacforge.verify.options",
    "resolve_stages": "iacforge.verify.pipeline",
    "verify_all": "iacforge.verify.pool",
}

__all__ = sorted(_HOME)


__getattr__, __dir__ = _lazy_exports(globals(), _HOME)
