"""Run checkov's Terraform checks in-process on a set of files, offline and quietly.

The CLI costs ~5 s per call (measured on a 5-resource file); importing checkov once (~2 s, on
first use) and then scanning in-process costs 20–100 ms per candidate. We call the runners
directly, never `checkov.main`, which is where the platform, policy-mapping download and
version check live.

checkov keeps per-run state on module-level objects (its context-parser and check
registries), so scans are serialised with a lock; each scan builds fresh runners (~60 µs).
Its file parser forks worker processes by default, which breaks inside daemonic pool
workers and is slower for a handful of files, so parsing runs sequentially.

>>> queue = 'resource "aws_sqs_queue" "q" {\\n  sqs_managed_sse_enabled = true\\n}\\n'
>>> report = scan({"main.tf": queue})
>>> report.failed, len(report.passed) > 0
((), True)
"""

from __future__ import annotations

import functools
import logging
import os
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from iacforge.errors import IacforgeError
from iacforge.verify.sandbox.workspace import UnsafePath, Workspace

#: checkov reads these when its modules are imported; all keep it away from the network.
_OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "true",
    "CHECKOV_PARALLELIZATION_TYPE": "none",
}

_LOCK = threading.Lock()


class ScanError(IacforgeError):
    """checkov could not judge the files: it crashed, or could not parse one of them."""


@dataclass(frozen=True)
class Finding:
    """One check result on one block, as checkov reported it."""

    check_id: str
    name: str
    #: checkov's id for the block: `aws_s3_bucket.b`, `aws.default` (a provider); data
    #: sources appear without their `data.` prefix.
    resource: str
    file: str
    start_line: int
    end_line: int
    guideline: str = ""
    #: For a result a `#checkov:skip=<id>:<reason>` comment suppressed: the reason given.
    reason: str = ""


@dataclass(frozen=True)
class ScanReport:
    """Every check result of one scan, by outcome."""

    passed: tuple[Finding, ...]
    failed: tuple[Finding, ...]
    #: Results suppressed by `checkov:skip=` comments (only when those are honoured).
    skipped: tuple[Finding, ...]


def scan(
    files: Mapping[str, str],
    *,
    skip_checks: Iterable[str] = (),
    skip_comments: bool = False,
) -> ScanReport:
    """Scan the `.tf` and `.tf.json` files among `files` (name → text); others are ignored.

    Args:
        skip_checks: check ids (e.g. `CKV_AWS_18`, or several comma-separated) not to run.
        skip_comments: honour `#checkov:skip=<id>` comments in the files. Off by default, so a
            generated candidate cannot silence a check by writing a comment.

    Raises:
        ScanError: checkov crashed or could not parse a file (the message says which).
    """
    skip = [skip_checks] if isinstance(skip_checks, str) else list(skip_checks)
    scanned = {n: text for n, text in files.items() if n.endswith((".tf", ".tf.json"))}
    try:
        workspace = Workspace(scanned)
    except UnsafePath as exc:
        raise ScanError(str(exc)) from None
    with workspace, _LOCK, _quiet_root_logger():
        checkov = _checkov()
        root = workspace.path
        reports = []
        for runner_class, suffix in ((checkov.Runner, ".tf"), (checkov.JsonRunner, ".tf.json")):
            paths = sorted(str(root / n) for n in scanned if n.endswith(suffix))
            if not paths:
                continue
            runner_filter = checkov.RunnerFilter(skip_checks=skip, show_progress_bar=False)
            try:
                reports.append(runner_class().run(
                    root_folder=None, files=paths, runner_filter=runner_filter,
                    collect_skip_comments=skip_comments,
                ))
            except Exception as exc:  # checkov raises anything from deep inside
                raise ScanError(f"checkov crashed: {type(exc).__name__}: {exc}") from exc
    return _collect(reports, root)


def _collect(reports: list[Any], root: Path) -> ScanReport:
    passed: list[Finding] = []
    failed: list[Finding] = []
    skipped: list[Finding] = []
    for report in reports:
        if report.parsing_errors:
            names = ", ".join(sorted(os.path.relpath(p, root) for p in report.parsing_errors))
            raise ScanError(f"checkov could not parse {names}")
        for records, out in (
            (report.passed_checks, passed),
            (report.failed_checks, failed),
            (report.skipped_checks, skipped),
        ):
            out += (_finding(r, root) for r in records)
    return ScanReport(tuple(passed), tuple(failed), tuple(skipped))


def _finding(record: Any, root: Path) -> Finding:
    start, end = record.file_line_range
    return Finding(
        check_id=record.check_id,
        name=record.check_name,
        resource=record.resource,
        file=os.path.relpath(record.file_abs_path, root),
        start_line=start,
        end_line=end,
        guideline=record.guideline or "",
        reason=str((record.check_result or {}).get("suppress_comment") or ""),
    )


@functools.cache
def _checkov() -> SimpleNamespace:
    """Import checkov once, configured to stay offline and to parse in this process."""
    os.environ.update(_OFFLINE_ENV)
    from checkov.common.models.enums import ParallelizationType
    from checkov.common.parallelizer.parallel_runner import parallel_runner
    from checkov.runner_filter import RunnerFilter
    from checkov.terraform.runner import Runner
    from checkov.terraform_json.runner import TerraformJsonRunner

    # The env var only counts if nothing imported checkov before us; this always does.
    parallel_runner.type = ParallelizationType.NONE
    return SimpleNamespace(Runner=Runner, JsonRunner=TerraformJsonRunner, RunnerFilter=RunnerFilter)


@contextmanager
def _quiet_root_logger() -> Iterator[None]:
    """Keep checkov's bare `logging.info(...)` calls from installing a stderr handler on root.

    Those module-level calls run `logging.basicConfig()` when the root logger has no handler;
    a temporary NullHandler prevents that and drops checkov's chatter. An application that
    configured logging keeps its own handlers and sees checkov's warnings through them.
    """
    root = logging.getLogger()
    if root.handlers:
        yield
        return
    null = logging.NullHandler()
    root.addHandler(null)
    try:
        yield
    finally:
        root.removeHandler(null)
