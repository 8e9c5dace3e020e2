"""Tasks as training examples: the repair loop's own first prompt, and the reference as the answer.

An SFT example is TRL's conversational prompt-completion format, so the loss falls on the
answer only (`completion_only_loss`) whatever the chat template: the prompt is the system
and user messages `iacforge generate` / `mutate` send (src/iacforge/prompts/), the completion is
one assistant message holding the reference as fenced, named HCL blocks — for a mutation, only
the files the reference changes or adds, as the mutation prompt asks. A GRPO example is the
prompt plus what the reward needs to judge a reply: the intent policy and the files a mutation
starts from (as JSON text, so every row has the same column types).

>>> from iacforge.data.task import Task
>>> task = Task("t", "generate", "An SQS queue.", reference={"main.tf": "resource ..."})
>>> row = sft_example(task)
>>> [m["role"] for m in row["prompt"]], row["completion"][0]["content"]
(['system', 'user'], '```hcl main.tf\\nresource ...\\n```')
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from iacforge.data.task import Task
from iacforge.llm.base import Messages
from iacforge.prompts import render


def prompt_of(task: Task) -> Messages:
    """The first prompt the repair loop sends for `task`."""
    return task.request().first_prompt()


def answer_of(task: Task) -> str:
    """The reference as the reply a model should give: one fenced block per file."""
    changed = {name: text for name, text in task.reference.items()
               if task.files.get(name) != text}
    files = changed or task.reference
    return "\n".join(
        render("file", lang="json" if name.endswith(".json") else "hcl", name=name,
               text=text if text.endswith("\n") else text + "\n")
        for name, text in sorted(files.items())).rstrip("\n")


def sft_example(task: Task) -> dict[str, Any]:
    """One prompt-completion row for TRL's SFTTrainer (needs a reference)."""
    return {"prompt": prompt_of(task),
            "completion": [{"role": "assistant", "content": answer_of(task)}]}


def grpo_example(task: Task) -> dict[str, Any]:
    """One prompt row for GRPOTrainer, with the columns `VerifierReward` reads."""
    return {"prompt": prompt_of(task), "task_id": task.id, "intent": task.intent or "",
            "files": json.dumps(task.files, sort_keys=True)}


def with_reference(tasks: Iterable[Task]) -> list[Task]:
    """The tasks that have a reference solution (SFT needs one)."""
    return [t for t in tasks if t.reference]
