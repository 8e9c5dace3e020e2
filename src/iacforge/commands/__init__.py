"""Subcommands: each module has HELP, register(parser) and run(args) -> exit code."""

from __future__ import annotations

from types import ModuleType

from iacforge.commands import config, data, eval, generate, mutate, report, serve, train, verify

COMMANDS: dict[str, ModuleType] = {
    "verify": verify, "serve": serve, "generate": generate, "mutate": mutate, "eval": eval,
    "report": report, "train": train, "data": data, "config": config}
