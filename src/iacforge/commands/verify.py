"""`iacforge verify PATH|-`: verify Terraform and print its certificate."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.commands.args import add_verbosity, positive_float, positive_int
from iacforge.config import Settings
from iacforge.config_file import resolve
from iacforge.diagnostics import FAILING
from iacforge.errors import ConfigError
from iacforge.formal import ADVISORY, parse_fail_on
from iacforge.gitdiff import changed_since
from iacforge.hcl.extract import from_bytes
from iacforge.hcl.roots import root_candidates
from iacforge.render import FORMATTERS, render
from iacforge.verify.cache import VerdictCache, default_path
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.options import INTENT_RULES, REGO_ENGINES, VerifierOptions
from iacforge.verify.pipeline import Verifier, require_policy
from iacforge.verify.pool import verify_all
from iacforge.verify.stages import DEFAULT_STAGES, STAGES

HELP = "Verify Terraform (a directory, a .tf file, or LLM text on stdin) and print certificates."


def register(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="directory (one certificate per root module below it), "
                             ".tf/.tf.json file, text file with fenced code, or - for stdin; "
                             "with --since: the directories to look in (default: .); with "
                             "--changed: the changed files")
    changes = parser.add_mutually_exclusive_group()
    changes.add_argument("--since", metavar="REF",
                         help="verify only the root modules below PATH touched since the git "
                              "ref REF (git diff --name-only REF, plus untracked files)")
    changes.add_argument("--changed", action="store_true",
                         help="PATHs are changed files (as pre-commit passes them): verify "
                              "each root module below the working directory that holds one "
                              "or calls a module that does")
    parser.add_argument("--intent", type=Path, help="Rego intent policy evaluated on the plan")
    parser.add_argument("--stages", type=_stage_list,
                        help=f"comma-separated stages (default: {','.join(DEFAULT_STAGES)}; "
                             "intent only with --intent); prerequisites are added")
    parser.add_argument("--format", choices=sorted(FORMATTERS), default="table")
    parser.add_argument("--timeout", type=positive_float, help="seconds per terraform command")
    add_fail_on(parser)
    parser.add_argument("--intent-rule", choices=INTENT_RULES,
                        help="which judgement sets the intent stage's status (default: "
                             f"{VerifierOptions.intent_rule})")
    parser.add_argument("--rego-engine", choices=REGO_ENGINES,
                        default=VerifierOptions.rego_engine,
                        help="Rego engine (opa only when on PATH)")
    parser.add_argument("--skip-check", action="append", default=[], metavar="CKV_ID",
                        help="checkov check id to skip (repeatable)")
    parser.add_argument("--ignore-skip-comments", action="store_true",
                        help="fail checks that a #checkov:skip=ID:reason comment in the code "
                             "skips (by default they are reported as skipped, as checkov -d does)")
    parser.add_argument("--no-cache", action="store_true",
                        help="neither read nor write the verdict cache (IACFORGE_CACHE_DIR)")
    parser.add_argument("--executor", choices=["local", "ray"], default="local",
                        help="where candidates are verified: local threads or Ray")
    parser.add_argument("--workers", type=positive_int,
                        help="parallel workers (default: the cores)")
    parser.add_argument("--ray-address", help="Ray cluster to join (default: a local Ray)")
    parser.add_argument("--screen-policy", metavar="FILE",
                        help="JSON screen policy replacing the packaged one (README: Sandbox)")
    parser.add_argument("--allow-unsandboxed", action="store_true",
                        help="run terraform without the sandbox when this machine has none "
                             "(UNSAFE: candidates run with your user's access)")
    add_verbosity(parser)


def add_fail_on(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """`--fail-on security,lint`: advisory stages whose failure fails the verdict too."""
    parser.add_argument("--fail-on", type=_fail_on, default=None, metavar="STAGES",
                        help=f"comma-separated advisory stages ({','.join(ADVISORY)}) whose "
                             "failure fails the verdict and exit code too (default: "
                             "$IACFORGE_FAIL_ON, else none: they are reported, not gating)")


def _fail_on(text: str) -> tuple[str, ...]:
    try:
        return parse_fail_on(text)
    except ConfigError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _stage_list(text: str) -> list[str]:
    names = [s.strip() for s in text.split(",") if s.strip()]
    unknown = [n for n in names if n not in STAGES]
    if unknown:
        raise argparse.ArgumentTypeError(
            f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
    return names


def run(args: argparse.Namespace) -> int:
    # command line > IACFORGE_* > .iacforge.toml / [tool.iacforge] > defaults
    conf = {k: e.value for k, e in resolve({
        "stages": args.stages, "fail_on": args.fail_on, "skip_checks": args.skip_check or None,
        "intent_rule": args.intent_rule, "timeout": args.timeout,
        "workers": args.workers}).items()}
    settings = Settings.from_env(timeout=conf["timeout"], fail_on=conf["fail_on"],
                                 screen_policy=args.screen_policy,
                                 allow_unsandboxed=args.allow_unsandboxed or None)
    intent = IntentPolicy.from_file(args.intent) if args.intent else None
    require_policy(conf["stages"], [intent])
    verifier = Verifier(settings, conf["stages"], options=VerifierOptions(
        intent_rule=conf["intent_rule"], rego_engine=args.rego_engine,
        skip_checks=conf["skip_checks"], fail_on=conf["fail_on"],
        honour_skip_comments=not args.ignore_skip_comments))
    candidates = collect(args, settings.max_bytes)
    cache = None if args.no_cache else VerdictCache(default_path(settings))
    # a cluster's size is the cluster's; IACFORGE_WORKERS and the file size this machine's pool
    workers = args.workers if args.ray_address else conf["workers"]
    certs = verify_all(candidates, intent, verifier=verifier, executor=args.executor,
                       workers=workers, ray_address=args.ray_address, cache=cache,
                       progress=False if args.quiet else None)
    print(render(certs, args.format))
    return exit_code(certs)


def collect(args: argparse.Namespace, max_bytes: int) -> list[Candidate]:
    """The candidates named by PATHs, or the root modules touched (--since / --changed)."""
    if args.since or args.changed:
        changed = ([Path(p) for p in args.paths] if args.changed
                   else changed_since(args.since))
        scopes = [Path(".")] if args.changed or not args.paths else [Path(p) for p in args.paths]
        found = [c for scope in scopes
                 for c in root_candidates(scope, max_bytes=max_bytes, touching=changed)]
        if not found:
            print(f"iacforge: no root module below {', '.join(map(str, scopes))} holds or calls "
                  f"the {len(changed)} changed file(s); nothing to verify", file=sys.stderr)
        return found
    if not args.paths:
        raise ConfigError("the following arguments are required: PATH (or --since REF)")
    candidates = []
    for raw in args.paths:
        if raw == "-":
            candidates.append(from_bytes(sys.stdin.buffer.read(max_bytes + 1), name="<stdin>",
                                         source="<stdin>", max_bytes=max_bytes))
        else:  # a directory is judged as what it is: each root module below it, one each
            candidates += root_candidates(Path(raw), max_bytes=max_bytes)
    return candidates


def exit_code(certs: list[Certificate]) -> int:
    """0 every gating stage passed, 1 any failed or was unsafe, 3 verifier errors and nothing
    failed. Security and lint gate only when a certificate's `fail_on` names them."""
    # every gating stage counts, not just each certificate's first non-pass: a security
    # failure after a validate error is still a failure when security gates
    statuses = {s.status for c in certs for s in c.gating()}
    if statuses & FAILING:
        return 1
    if "error" in statuses:
        return 3
    return 0 if statuses <= {"pass"} else 1
