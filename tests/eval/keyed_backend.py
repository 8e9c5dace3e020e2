"""`python keyed_backend.py ARGS…`: the iacforge CLI with one more backend, `keyed:FILE.json`.

The keyed backend answers from a script keyed by the request, not by call order, so a run that
is killed and resumed gets the same reply for the same (task, turn) as an uninterrupted run:

    {"delay": 0.2,                       # seconds to sleep per generate call (a slow model)
     "replies": {"S3 bucket": ["turn 1 reply", "turn 2 reply"], ...},
     "default": "reply for requests no key matches"}

A key matches when it occurs in the first user message; the turn is the number of assistant
messages in the conversation plus one (the last reply repeats for later turns).
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from iacforge.cli import main
from iacforge.llm.base import Messages, Sampling
from iacforge.llm.registry import BackendOptions, register


class KeyedBackend:
    def __init__(self, script: dict) -> None:
        self.script = script

    def generate(self, prompts: list[Messages], n: int, sampling: Sampling) -> list[list[str]]:
        time.sleep(self.script.get("delay", 0))
        return [[self._reply(p)] * n for p in prompts]

    def _reply(self, prompt: Messages) -> str:
        request = next(m["content"] for m in prompt if m["role"] == "user")
        turn = sum(m["role"] == "assistant" for m in prompt) + 1
        for key, replies in self.script["replies"].items():
            if key in request:
                return replies[min(turn, len(replies)) - 1]
        return self.script["default"]


@register("keyed")
def _keyed(target: str, options: BackendOptions) -> KeyedBackend:
    return KeyedBackend(json.loads(Path(target).read_text(encoding="utf-8")))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
