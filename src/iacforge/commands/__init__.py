"""Subcommands: each module has HELP, register(parser) and run(args) -> exit code."""

from __future__ import annotations

from types import ModuleType

from iacforge.commands import verify

COMMANDS: dict[str, ModuleType] = {"verify": verify}
