"""Security stage: checkov's Terraform checks, run in-process on the candidate's own files.

Only the candidate's files are scanned, in a private directory: never the workspace's
`.terraform` folder or the files iacforge adds there for offline runs (a provider override
would otherwise be judged as if the candidate had written it). Each failed check becomes a
warning; the stage fails when any check fails.

`ctx.options` (VerifierOptions): `skip_checks` (check ids not to run) and
`honour_skip_comments` (obey `#checkov:skip=<id>:<reason>` comments as `checkov -d` does; off by
default, so a generated candidate cannot silence a check itself; `iacforge verify` turns it on for
the user's own code). A check a comment skipped is reported as an `info` diagnostic whose
`suppressed` field holds the comment's reason; it does not fail the stage. The stage is advisory:
its failure fails the verdict only under `fail_on`.
"""

from __future__ import annotations

import time

from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.hcl.model import TerraformModel
from iacforge.hcl.parse import parse_files
from iacforge.verify import checkov_scan
from iacforge.verify.context import StageContext

ID = "security"
SENTENCE = "Ensure the configuration passes checkov's Terraform security checks."
NEEDS: tuple[str, ...] = ("parse",)


def run(ctx: StageContext) -> StageResult:
    start = time.monotonic()
    try:
        report = checkov_scan.scan(
            ctx.candidate.files,
            skip_checks=ctx.options.skip_checks,
            skip_comments=ctx.options.honour_skip_comments,
        )
    except checkov_scan.ScanError as exc:
        if isinstance(exc.__cause__, MemoryError | RecursionError):
            raise exc.__cause__ from None  # a bound the candidate exceeded (verify/bounded.py)
        diagnostic = Diagnostic("error", "checkov could not scan the configuration", str(exc))
        return StageResult(ID, "error", (diagnostic,), time.monotonic() - start)
    addresses = _addresses(ctx.model or parse_files(ctx.candidate.files).model)
    diagnostics = tuple(
        _diagnostic(f, addresses, skipped=False) for f in _in_order(report.failed)
    ) + tuple(_diagnostic(f, addresses, skipped=True) for f in _in_order(report.skipped))
    passed, failed = len(report.passed), len(report.failed)
    metrics = {
        "passed": passed,
        "failed": failed,
        "skipped": len(report.skipped),
        "compliance": passed / (passed + failed) if passed + failed else 1.0,
    }
    status = "fail" if failed else "pass"
    return StageResult(ID, status, diagnostics, time.monotonic() - start, metrics)


def _in_order(findings: tuple[checkov_scan.Finding, ...]) -> list[checkov_scan.Finding]:
    return sorted(findings, key=lambda f: (f.file, f.start_line, f.check_id))


def _diagnostic(f: checkov_scan.Finding, addresses: dict[tuple[str, int], str], *,
                skipped: bool) -> Diagnostic:
    """A failed check as a warning; a check a `checkov:skip` comment skipped as info."""
    reason = (f.reason or "no reason given") if skipped else None
    return Diagnostic(
        "info" if skipped else "warning",
        f.name,
        f"skipped by a checkov:skip comment: {reason}" if skipped else f.guideline,
        file=f.file,
        line=f.start_line,
        address=addresses.get((f.file, f.start_line), f.resource),
        rule_id=f.check_id,
        end_line=f.end_line,
        suppressed=reason,
    )


def _addresses(model: TerraformModel | None) -> dict[tuple[str, int], str]:
    """(file, first line) → Terraform address, so data sources read `data.x.y` as elsewhere."""
    if model is None:
        return {}
    return {(b.file, b.start_line): b.address for b in model.blocks if b.start_line is not None}
