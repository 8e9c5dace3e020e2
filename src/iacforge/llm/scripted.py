"""A backend that replies from a script: the test double for code about the loop, not the model.

It plays the part httpx's mock transport plays for HTTP: tests of the repair loop and the CLI run
without a model, and can look at exactly what the loop sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from iacforge.errors import IacforgeError
from iacforge.llm.base import Messages, Sampling

Reply = Callable[[Messages], str]


@dataclass(frozen=True)
class ScriptedCall:
    """One `generate` call as the backend received it."""

    prompts: list[Messages]
    n: int
    sampling: Sampling


class ScriptedBackend:
    """Replies with pre-set texts in order (prompt by prompt, `n` for each), or from a function.

    >>> backend = ScriptedBackend(["first", "second"])
    >>> backend.generate([[{"role": "user", "content": "hi"}]], 2, Sampling())
    [['first', 'second']]
    >>> backend.calls[0].n
    2
    """

    def __init__(self, replies: Iterable[str] | Reply) -> None:
        self._reply = replies if callable(replies) else None
        self._queue = [] if callable(replies) else list(replies)
        self.calls: list[ScriptedCall] = []

    @classmethod
    def from_file(cls, path: str | Path) -> ScriptedBackend:
        """A backend replaying a JSON file that holds a list of reply texts."""
        try:
            replies = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise IacforgeError(f"cannot read scripted replies from {path}: {exc}") from None
        if not isinstance(replies, list) or not all(isinstance(r, str) for r in replies):
            raise IacforgeError(f"{path}: expected a JSON list of reply strings")
        return cls(replies)

    @property
    def prompts(self) -> list[Messages]:
        """Every prompt received, in order, across calls."""
        return [p for call in self.calls for p in call.prompts]

    @property
    def remaining(self) -> int:
        """Scripted replies not yet used."""
        return len(self._queue)

    def generate(self, prompts: list[Messages], n: int, sampling: Sampling) -> list[list[str]]:
        self.calls.append(ScriptedCall([[dict(m) for m in p] for p in prompts], n, sampling))
        return [[self._next(prompt) for _ in range(n)] for prompt in prompts]

    def _next(self, prompt: Messages) -> str:
        if self._reply is not None:
            return self._reply(prompt)
        if not self._queue:
            raise IacforgeError("the scripted backend ran out of replies")
        return self._queue.pop(0)
