"""The `iacforge` command line: a thin layer over the library, one module per subcommand.

Exit codes: 0 success (every requested stage passed), 1 a candidate failed or was unsafe,
2 usage error, 3 the verifier could not judge (error) and nothing failed, 4 the machine lacks
something iacforge needs (terraform, the provider mirror, a sandbox).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from iacforge import __version__
from iacforge.commands import COMMANDS
from iacforge.errors import IacforgeError, SetupError

EXIT_SETUP = 4


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (the usage itself is in --help)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="iacforge", description="Trustworthy LLM-written Terraform: verify, certify, reward.")
    parser.add_argument("--version", action="version", version=f"iacforge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        command.register(sub.add_parser(name, help=command.HELP, description=command.HELP))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command].run(args)
    except SetupError as exc:
        print(f"iacforge: setup problem: {exc}", file=sys.stderr)
        return EXIT_SETUP
    except IacforgeError as exc:
        print(f"iacforge: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("iacforge: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`iacforge verify … | head`): not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
