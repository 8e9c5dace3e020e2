"""`iacforge config`: each effective setting of `iacforge verify` and where it came from."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import fields
from pathlib import Path

from iacforge.config import Settings
from iacforge.config_file import FILE_KEYS, Effective, find_file, resolve
from iacforge.verify.stages import DEFAULT_STAGES

HELP = "Show each effective setting and where it came from (command line > env > file > default)."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=["table", "json"], default="table")


def run(args: argparse.Namespace) -> int:
    found = effective()
    if args.format == "json":
        print(json.dumps({k: {"value": _plain(e.value), "source": e.source}
                          for k, e in found.items()}, indent=2))
        return 0
    path = find_file(Path.cwd())
    print(f"config file: {path or 'none'} (.iacforge.toml or [tool.iacforge] in pyproject.toml)")
    width = max(map(len, found))
    for key, entry in found.items():
        print(f"{key:<{width}}  {_shown(key, entry.value)}  [{entry.source}]")
    return 0


def effective() -> dict[str, Effective]:
    """The file's keys resolved, then the other Settings fields (from env or default)."""
    found = resolve({})
    settings = Settings.from_env()
    for f in fields(Settings):
        if f.name not in FILE_KEYS:
            variable = f"IACFORGE_{f.name.upper()}"
            source = variable if os.environ.get(variable) else "default"
            found[f.name] = Effective(getattr(settings, f.name), source)
    return found


def _shown(key: str, value: object) -> str:
    if key == "stages" and value is None:
        return f"{','.join(s for s in DEFAULT_STAGES if s != 'intent')} (intent with --intent)"
    if isinstance(value, tuple):
        return ",".join(value) or "(none)"
    return "(none)" if value is None else str(value)


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value
