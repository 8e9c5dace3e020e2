"""The one small protocol every model backend speaks, and the sampling settings it takes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from iacforge.errors import ConfigError

#: Decoding constraint: HCL under the provider schema, HCL alone, or none (see iacforge.constrain).
Constrain = Literal["schema", "syntax", "none"]
#: How the constraint is kept: mask each token, or reject samples (see constrain.rejection).
ConstrainMode = Literal["mask", "reject"]

#: One chat message: `{"role": "system" | "user" | "assistant", "content": "..."}`.
Message = dict[str, str]
#: One prompt: a conversation, oldest message first.
Messages = list[Message]


@dataclass(frozen=True)
class Sampling:
    """How to sample completions.

    >>> Sampling(temperature=0).greedy
    True
    """

    max_new_tokens: int = 1024
    #: 0 means greedy decoding (every one of the n samples is then the same text).
    temperature: float = 0.7
    top_p: float = 0.95
    #: Seed for the sampler; None leaves it to the backend.
    seed: int | None = None
    #: What the reply may be: None leaves it to the backend (`schema` for local models, `none`
    #: for servers, which enforce a grammar only when asked).
    constrain: Constrain | None = None
    #: `mask`: every token is drawn from those the grammar allows (fast, skews the text);
    #: `reject`: samples are drawn from the model and redrawn from their first forbidden token
    #: on, learning as they go (each reply as the model would write it, given the grammar).
    constrain_mode: ConstrainMode = "mask"

    def __post_init__(self) -> None:
        if self.constrain not in (None, "schema", "syntax", "none"):
            raise ValueError(f"constrain must be schema, syntax or none, not {self.constrain!r}")
        if self.constrain_mode not in ("mask", "reject"):
            raise ValueError(f"constrain_mode must be mask or reject, not {self.constrain_mode!r}")
        if self.max_new_tokens < 1:
            raise ConfigError(f"max_new_tokens must be at least 1, not {self.max_new_tokens}")
        if self.temperature < 0:
            raise ConfigError(f"temperature must be 0 (greedy) or more, not {self.temperature}")
        if not 0 < self.top_p <= 1:
            raise ConfigError(f"top_p must be in (0, 1], not {self.top_p}")

    @property
    def greedy(self) -> bool:
        return self.temperature == 0


@runtime_checkable
class Backend(Protocol):
    """Anything that turns chat prompts into completions."""

    def generate(self, prompts: list[Messages], n: int, sampling: Sampling) -> list[list[str]]:
        """`n` completions for each prompt: `result[i]` holds the texts for `prompts[i]`."""
        ...
