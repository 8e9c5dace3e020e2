"""Security stage: checkov's Terraform checks, run in-process on the candidate's own files.

Only the candidate's files are scanned, in a private directory: never the workspace's
`.terraform` folder or the files iacforge adds there for offline runs (a provider override
would otherwise be judged as if the candidate had written it). Each failed check becomes a
warning; the stage fails when any check fails.

`ctx.options` (VerifierOptions): `skip_checks` (check ids not to run) and
`honour_skip_comments` (obey `#checkov:skip=` comments; off, so a candidate cannot silence a
check itself). The stage is advisory: its failure fails the verdict only under `fail_on`.
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
        diagnostic = Diagnostic("error", "checkov could not scan the configuration", str(exc))
        return StageResult(ID, "error", (diagnostic,), time.monotonic() - start)
    addresses = _addresses(ctx.model or parse_files(ctx.candidate.files).model)
    diagnostics = tuple(
        Diagnostic(
            "warning",
            f.name,
            f.guideline,
            file=f.file,
            line=f.start_line,
            address=addresses.get((f.file, f.start_line), f.resource),
            rule_id=f.check_id,
        )
        for f in sorted(report.failed, key=lambda f: (f.file, f.start_line, f.check_id))
    )
    passed, failed = len(report.passed), len(report.failed)
    metrics = {
        "passed": passed,
        "failed": failed,
        "skipped": len(report.skipped),
        "compliance": passed / (passed + failed) if passed + failed else 1.0,
    }
    status = "fail" if failed else "pass"
    return StageResult(ID, status, diagnostics, time.monotonic() - start, metrics)


def _addresses(model: TerraformModel | None) -> dict[tuple[str, int], str]:
    """(file, first line) → Terraform address, so data sources read `data.x.y` as elsewhere."""
    if model is None:
        return {}
    return {(b.file, b.start_line): b.address for b in model.blocks if b.start_line is not None}
