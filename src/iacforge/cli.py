"""The `iacforge` command line: a thin layer over the library, one module per subcommand.

Exit codes: 0 success (every requested stage passed), 1 a candidate failed or was unsafe,
2 usage error, 3 the verifier could not judge (error) and nothing failed, 4 the machine lacks
something iacforge needs (terraform, the provider mirror, a sandbox), 70 an internal error
(a bug: one line on stderr, the traceback with `--verbose` or `IACFORGE_DEBUG=1`).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from collections.abc import Sequence
from typing import NoReturn

from iacforge import __version__
from iacforge.commands import COMMANDS
from iacforge.commands.args import HelpFormatter
from iacforge.errors import IacforgeError, SetupError

EXIT_SETUP = 4
EXIT_INTERNAL = 70  # sysexits' EX_SOFTWARE

#: What each command's exit status means (`--help` epilog).
VERDICT_EXITS = """exit codes:
  0   every gating stage passed
  1   a candidate failed or was unsafe
  2   usage error (a bad option or path)
  3   the verifier could not judge (error) and nothing failed
  4   setup problem (terraform, the provider mirror, a sandbox)
  70  internal error"""
OTHER_EXITS = """exit codes:
  0   done
  1   fewer results than asked for
  2   usage error (a bad option or path)
  4   setup problem
  70  internal error"""
VERDICT_COMMANDS = frozenset({"verify", "generate", "mutate"})
#: One runnable example per command, shown under its --help.
EXAMPLES: dict[str, str] = {
    "verify": "iacforge verify examples/pass_queue --format json",
    "serve": "iacforge serve --port 8787 --workers 4",
    "generate": 'iacforge generate "An S3 bucket named logs." --samples 2 --turns 2',
    "mutate": 'iacforge mutate queue/ "Add a dead-letter queue." --turns 3',
    "eval": "iacforge eval --tasks tests/fixtures/iac_eval_mini.csv --references",
    "report": "iacforge report runs/my-model --out report/",
    "train": "iacforge train sft --tasks tasks.jsonl --out runs/sft --max-steps 20",
    "data": "iacforge data split tasks.jsonl --out dataset/ --test-fraction 0.1",
    "config": "iacforge config --format json",
    "data ingest": "iacforge data ingest ~/src/infra --out ingested.jsonl",
    "data curate": "iacforge data curate ingested.jsonl --out curated/ --turns 2",
    "data synth": "iacforge data synth --out synth/ --count 1000 --mutations 400",
    "data mutate": "iacforge data mutate synth/generate.jsonl --out mutations.jsonl",
    "data dedup": "iacforge data dedup synth/ --out dedup.jsonl --against dev100.csv",
    "data stats": "iacforge data stats dataset/ --out dataset/README.md",
    "train grpo": "iacforge train grpo --tasks dataset/ --adapter runs/sft --out runs/grpo",
    "train multiturn": "iacforge train multiturn --tasks dataset/ --adapter runs/sft "
                       "--out runs/mt",
}


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage error said in one line (the usage itself is in --help), and
    defaults shown in --help (subcommands' parsers are made by this class too)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="iacforge", description="Trustworthy LLM-written Terraform: verify, certify, reward.",
        epilog=f"example:\n  {EXAMPLES['verify']}\n\n{VERDICT_EXITS}")
    parser.add_argument("--version", action="version", version=f"iacforge {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, command in COMMANDS.items():
        exits = VERDICT_EXITS if name in VERDICT_COMMANDS else OTHER_EXITS
        command_parser = sub.add_parser(name, help=command.HELP, description=command.HELP,
                                        epilog=f"example:\n  {EXAMPLES[name]}\n\n{exits}")
        command.register(command_parser)
        _inherit_epilog(command_parser, name)
    return parser


def _inherit_epilog(parser: argparse.ArgumentParser, name: str) -> None:
    """`iacforge data synth --help` ends like `iacforge data --help` (exit codes), with the
    example of its own (`EXAMPLES["data synth"]`) where there is one."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for step, child in action.choices.items():
                example = EXAMPLES.get(f"{name} {step}")
                own = parser.epilog.replace(EXAMPLES[name], example) if example else None
                child.epilog = child.epilog or own or parser.epilog


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    verbose = getattr(args, "verbose", False) or bool(os.environ.get("IACFORGE_DEBUG"))
    if getattr(args, "verbose", False):
        logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                            format="%(levelname)s %(name)s: %(message)s")
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
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError,
            FileExistsError) as exc:  # a path named on the command line
        print(f"iacforge: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
        return 2
    except OSError as exc:  # the machine's, not the input's: disk full, too many open files
        print(f"iacforge: setup problem: {_one_line(exc)}", file=sys.stderr)
        return EXIT_SETUP
    except Exception as exc:  # a bug: one line, the traceback only when asked for
        if verbose:
            traceback.print_exc()
        print(f"iacforge: internal error: {type(exc).__name__}: {_one_line(exc)} "
              "(IACFORGE_DEBUG=1 shows the traceback)", file=sys.stderr)
        return EXIT_INTERNAL


def _one_line(exc: BaseException) -> str:
    return next((line.strip() for line in str(exc).splitlines() if line.strip()), "")[:300]

if __name__ == "__main__":
    sys.exit(main())
