"""Model backends behind one small protocol: `generate(prompts, n, sampling) -> texts`.

>>> from iacforge.llm import Sampling, ScriptedBackend
>>> ScriptedBackend(["resource ..."]).generate([[{"role": "user", "content": "hi"}]], 1,
...                                            Sampling())
[['resource ...']]
"""

from iacforge.llm.base import Backend, Message, Messages, Sampling
from iacforge.llm.registry import (
    BACKENDS,
    DEFAULT_MODEL,
    BackendOptions,
    default_model,
    load_backend,
    register,
)
from iacforge.llm.scripted import ScriptedBackend, ScriptedCall

__all__ = [
    "BACKENDS",
    "DEFAULT_MODEL",
    "Backend",
    "BackendOptions",
    "Message",
    "Messages",
    "Sampling",
    "ScriptedBackend",
    "ScriptedCall",
    "default_model",
    "load_backend",
    "register",
]
