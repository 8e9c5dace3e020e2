"""Map terraform's machine-readable diagnostics (validate -json, plan -json) to Diagnostics."""

from __future__ import annotations

import json
from typing import Any

from iacforge.diagnostics import Diagnostic
from iacforge.verify.sandbox.process import ProcessResult

_CYCLE = "Cycle: "


def from_terraform(diag: dict[str, Any], *, rule_id: str) -> Diagnostic:
    """One terraform diagnostic object as a Diagnostic."""
    rng = diag.get("range") or {}
    start = rng.get("start") or {}
    end = rng.get("end") or {}
    severity = diag.get("severity", "error")
    return Diagnostic(
        severity="error" if severity == "error" else "warning",
        summary=_stable(str(diag.get("summary", "")).strip()),
        detail=str(diag.get("detail", "")).strip(),
        file=rng.get("filename"),
        line=start.get("line"),
        column=start.get("column"),
        address=diag.get("address"),
        rule_id=rule_id,
        end_line=end.get("line"),
        end_column=end.get("column"),
    )


def _stable(summary: str) -> str:
    """`summary` with the addresses of a "Cycle: …" error sorted.

    Terraform lists a cycle's nodes in an order that changes from run to run; a certificate
    must not, or the same candidate would get two verdict texts.
    """
    if not summary.startswith(_CYCLE):
        return summary
    return _CYCLE + ", ".join(sorted(summary[len(_CYCLE):].split(", ")))


def from_json_stream(out: ProcessResult, *, rule_id: str) -> list[Diagnostic]:
    """Diagnostics from the JSON-lines UI output of `terraform plan/apply -json`."""
    found: list[Diagnostic] = []
    for line in out.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict) and msg.get("type") == "diagnostic" and "diagnostic" in msg:
            found.append(from_terraform(msg["diagnostic"], rule_id=rule_id))
    return found


def fallback(out: ProcessResult, *, summary: str, rule_id: str) -> Diagnostic:
    """A Diagnostic for output terraform did not structure (crashes, usage errors)."""
    text = (out.stderr or out.stdout).strip()
    return Diagnostic("error", summary, text[-2000:] or f"exit code {out.returncode}, no output",
                      rule_id=rule_id)
