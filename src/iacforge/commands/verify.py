"""`iacforge verify PATH|-`: verify Terraform and print its certificate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.hcl.extract import from_bytes, from_path
from iacforge.render import FORMATTERS, render
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier
from iacforge.verify.stages import STAGES

HELP = "Verify Terraform (a directory, a .tf file, or LLM text on stdin) and print certificates."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="+", metavar="PATH",
                        help="directory, .tf/.tf.json file, text file with fenced code, or - "
                             "for stdin")
    parser.add_argument("--intent", type=Path, help="Rego intent policy evaluated on the plan")
    parser.add_argument("--stages", type=_stage_list,
                        help=f"comma-separated stages (default: all of {','.join(STAGES)}; "
                             "intent only with --intent); prerequisites are added")
    parser.add_argument("--format", choices=sorted(FORMATTERS), default="table")
    parser.add_argument("--timeout", type=float, help="seconds per terraform command")
    parser.add_argument("--intent-rule", choices=["iac_eval", "strict"], default="iac_eval",
                        help="which judgement sets the intent stage's status")
    parser.add_argument("--rego-engine", choices=["auto", "regorus", "opa"], default="auto",
                        help="Rego engine (opa only when on PATH)")
    parser.add_argument("--skip-check", action="append", default=[], metavar="CKV_ID",
                        help="checkov check id to skip (repeatable)")


def _stage_list(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    return names


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env(timeout=args.timeout)
    intent = IntentPolicy.from_file(args.intent) if args.intent else None
    verifier = Verifier(settings, args.stages, extras={
        "intent_rule": args.intent_rule, "rego_engine": args.rego_engine,
        "skip_checks": tuple(args.skip_check)})
    certs = []
    for raw in args.paths:
        if raw == "-":
            candidate = from_bytes(sys.stdin.buffer.read(settings.max_bytes + 1), name="<stdin>",
                                   source="<stdin>", max_bytes=settings.max_bytes)
        else:
            candidate = from_path(Path(raw), max_bytes=settings.max_bytes)
        certs.append(verifier.verify(candidate, intent))
    print(render(certs, args.format))
    return exit_code(certs)


def exit_code(certs: list[Certificate]) -> int:
    """0 all passed, 1 any fail/unsafe/skipped, 3 only verifier errors."""
    statuses = {c.status for c in certs}
    if statuses <= {"pass"}:
        return 0
    if statuses <= {"pass", "error"}:
        return 3
    return 1
