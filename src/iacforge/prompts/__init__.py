"""Prompts for generation, mutation and repair, kept as data files beside this module.

Each `NAME.md` file is a template whose `{{key}}` placeholders `render` fills in; the
functions below build the chat messages the repair loop sends.

>>> generation_prompt("An S3 bucket.")[1]["content"].endswith("An S3 bucket.")
True
"""

from __future__ import annotations

import functools
import re
from importlib import resources

from iacforge.llm.base import Messages

_PLACEHOLDER = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@functools.cache
def template(name: str) -> str:
    """The text of the template `name` (`system`, `generate`, `mutate`, `repair`, `file`)."""
    return resources.files(__package__).joinpath(f"{name}.md").read_text("utf-8")


def render(name: str, /, **values: str) -> str:
    """Template `name` with its placeholders filled; a missing or unused value is an error."""
    text = template(name)
    wanted = set(_PLACEHOLDER.findall(text))
    if wanted != values.keys():
        raise ValueError(f"template {name!r} takes {sorted(wanted)}, got {sorted(values)}")
    return _PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def generation_prompt(request: str) -> Messages:
    """The first turn of a generation: write a configuration for `request`."""
    return [
        {"role": "system", "content": render("system").strip()},
        {"role": "user", "content": render("generate", request=request.strip()).strip()},
    ]


def mutation_prompt(files: dict[str, str], request: str) -> Messages:
    """The first turn of a mutation: change the configuration `files` as `request` says."""
    blocks = "\n".join(
        render("file", lang="json" if name.endswith(".json") else "hcl", name=name,
               text=text if text.endswith("\n") else text + "\n")
        for name, text in sorted(files.items())
    )
    return [
        {"role": "system", "content": render("system").strip()},
        {"role": "user",
         "content": render("mutate", files=blocks, request=request.strip()).strip()},
    ]


def repair_prompt(first: Messages, reply: str, feedback: str) -> Messages:
    """The next turn: the first prompt, the latest reply, and the verifier's feedback on it.

    Only the latest attempt is kept, not every earlier one: it carries the fixes so far, and
    the prompt stays the same size however many turns the loop takes.
    """
    return [
        *first,
        {"role": "assistant", "content": reply},
        {"role": "user", "content": render("repair", feedback=feedback.strip()).strip()},
    ]
