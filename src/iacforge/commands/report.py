"""`iacforge report RUN [RUN…] --out DIR`: an HTML page and a markdown summary of runs."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Write an HTML report (tables, plots, item analysis) and a markdown summary of runs."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN",
                        help="run directories written by `iacforge eval`")
    parser.add_argument("--out", type=Path, default=Path("report"),
                        help="directory for report.html and summary.md (default: ./report)")


def run(args: argparse.Namespace) -> int:
    from iacforge.eval.report import load_runs, write_report

    page, summary = write_report(load_runs(args.runs), args.out)
    print(f"wrote {page} and {summary}")
    return 0
