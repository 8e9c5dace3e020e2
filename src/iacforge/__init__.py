"""iacforge: trustworthy LLM-written Terraform.

The public names load on first use (PEP 562): `import iacforge` stays light, and a worker that
imports one submodule does not pay for the verifier, the models or the data loaders.

>>> from iacforge import Candidate, Verifier
>>> Verifier(stages=["parse"]).verify(Candidate({"main.tf": "locals {}\\n"})).passed
True
"""

import typing

import iacforge._lark_cache  # noqa: F401 -- first: before anything imports hcl2
from iacforge._lazy import lazy as _lazy_exports
from iacforge._version import __version__ as __version__

# Eager: the name is also a submodule's, which would shadow a lazy attribute once imported.
from iacforge.reward import reward as reward

if typing.TYPE_CHECKING:  # what the names are, for type checkers
    from iacforge.candidate import Candidate as Candidate
    from iacforge.certificate import Certificate as Certificate
    from iacforge.config import Settings as Settings
    from iacforge.data.loaders import load_tasks as load_tasks
    from iacforge.data.task import Task as Task
    from iacforge.diagnostics import Diagnostic as Diagnostic
    from iacforge.diagnostics import StageResult as StageResult
    from iacforge.generate import LoopConfig as LoopConfig
    from iacforge.generate import Request as Request
    from iacforge.generate import run_loop as run_loop
    from iacforge.llm.registry import load_backend as load_backend
    from iacforge.llm.scripted import ScriptedBackend as ScriptedBackend
    from iacforge.reward import RewardWeights as RewardWeights
    from iacforge.verify.cache import VerdictCache as VerdictCache
    from iacforge.verify.intent_policy import IntentPolicy as IntentPolicy
    from iacforge.verify.pipeline import Verifier as Verifier
    from iacforge.verify.pool import verify_all as verify_all

#: Each public name and the module that defines it.
_HOME = {
    "Candidate": "iacforge.candidate",
    "Certificate": "iacforge.certificate",
    "Diagnostic": "iacforge.diagnostics",
    "IntentPolicy": "iacforge.verify.intent_policy",
    "LoopConfig": "iacforge.generate",
    "Request": "iacforge.generate",
    "RewardWeights": "iacforge.reward",
    "ScriptedBackend": "iacforge.llm.scripted",
    "Settings": "iacforge.config",
    "StageResult": "iacforge.diagnostics",
    "Task": "iacforge.data.task",
    "VerdictCache": "iacforge.verify.cache",
    "Verifier": "iacforge.verify.pipeline",
    "load_backend": "iacforge.llm.registry",
    "load_tasks": "iacforge.data.loaders",
    "run_loop": "iacforge.generate",
    "verify_all": "iacforge.verify.pool",
}

__all__ = sorted([*_HOME, "__version__", "reward"])


__getattr__, __dir__ = _lazy_exports(globals(), _HOME)
