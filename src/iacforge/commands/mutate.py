"""`iacforge mutate DIR "…"`: change existing Terraform as asked, verified and repaired in a loop.

The result goes to a new directory (`DIR-mutated`, a copy of DIR with the changed files) unless
`--out` names one or `--in-place` says to write into DIR itself. Files the model leaves out are
kept as they were.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from iacforge.commands.generate import add_loop_options, execute, fresh_dir, load_intent
from iacforge.errors import IacforgeError
from iacforge.generate import Request
from iacforge.hcl.extract import from_path

HELP = "Change existing Terraform as an English request says, verified and repaired; show a diff."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path, metavar="DIR", help="the Terraform directory to change")
    parser.add_argument("request", help="the change to make, in English")
    add_loop_options(parser)
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--out", type=Path,
                       help="directory for the result (default: a new DIR-mutated)")
    where.add_argument("--in-place", action="store_true", help="write the changes into DIR")


def run(args: argparse.Namespace) -> int:
    if not args.dir.is_dir():
        raise IacforgeError(f"{args.dir} is not a directory")
    existing = from_path(args.dir)
    if existing.problems:
        raise IacforgeError(f"cannot read {args.dir}: {'; '.join(existing.problems)}")
    request = Request(args.request, files=existing.files, intent=load_intent(args))
    if args.in_place:
        return execute(args, request, args.dir)
    out = args.out or fresh_dir(args.dir.with_name(f"{args.dir.resolve().name}-mutated"))
    if out.exists():
        raise IacforgeError(f"{out} exists; mutate writes to a new directory")
    return execute(args, request, out, copy_from=args.dir)
