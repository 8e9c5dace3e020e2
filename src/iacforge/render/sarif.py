"""SARIF 2.1.0 output, in the subset GitHub code scanning ingests.

One run holds the results of every certificate. A diagnostic without a rule id reports under
`iacforge/<stage>`. A stage that did not pass yet said nothing gets one result of its own, so
a failed verification never reads as a clean scan.

Locations: GitHub rejects the whole upload when any result lacks a physical location, so a
diagnostic without a file is anchored, file-level, at the candidate's first file. Only when the
certificate names no file at all (nothing was extracted) does a result go without a location.
A region is written only for a known line (and a column only with it), both at least 1.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from iacforge.certificate import Certificate
from iacforge.diagnostics import NOT_PASSED, Diagnostic, StageResult
from iacforge.render.version import iacforge_version

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS: dict[str, str] = {"error": "error", "warning": "warning", "info": "note"}


def render_sarif(certs: list[Certificate]) -> str:
    """The certificates as one SARIF 2.1.0 log (indented JSON)."""
    return json.dumps(sarif_log(certs), indent=2)


def sarif_log(certs: list[Certificate]) -> dict[str, Any]:
    """The SARIF log as a dict: one run, rules in order of first use, results in stage order."""
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for cert in certs:
        for stage in cert.stages:
            for diag in _reported(stage):
                rule_id = diag.rule_id or f"iacforge/{stage.stage}"
                rules.setdefault(rule_id, _rule(rule_id, diag))
                results.append(_result(rule_id, diag, stage, cert))
    driver = {"name": "iacforge", "version": iacforge_version(), "rules": list(rules.values())}
    return {
        "$schema": SCHEMA_URI,
        "version": "2.1.0",
        "runs": [{"tool": {"driver": driver}, "results": results}],
    }


def _reported(stage: StageResult) -> tuple[Diagnostic, ...]:
    if stage.diagnostics or stage.status not in NOT_PASSED:
        return stage.diagnostics
    return (Diagnostic("error", f"The {stage.stage} stage ended with status {stage.status}."),)


def _rule(rule_id: str, diag: Diagnostic) -> dict[str, Any]:
    # A stage-derived id groups unrelated findings, so it gets a generic description.
    if diag.rule_id:
        text = diag.summary or rule_id
    else:
        text = f"A finding of the iacforge {rule_id.removeprefix('iacforge/')} stage"
    return {"id": rule_id, "shortDescription": {"text": text}}


def _result(
    rule_id: str, diag: Diagnostic, stage: StageResult, cert: Certificate
) -> dict[str, Any]:
    text = "\n".join(part for part in (diag.summary, diag.detail.strip()) if part) or rule_id
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "level": LEVELS[diag.severity],
        "message": {"text": text},
    }
    location = _location(diag, cert)
    if location:
        result["locations"] = [location]
    properties = {"stage": stage.stage, "status": stage.status, "contentHash": cert.content_hash}
    if cert.source:
        properties["source"] = cert.source
    if diag.address:
        properties["address"] = diag.address
    result["properties"] = properties
    return result


def _location(diag: Diagnostic, cert: Certificate) -> dict[str, Any] | None:
    file = diag.file or (cert.files[0] if cert.files else None)
    if not file:
        return None
    physical: dict[str, Any] = {"artifactLocation": {"uri": quote(file.replace("\\", "/"))}}
    if diag.file and diag.line is not None and diag.line >= 1:
        region = {"startLine": diag.line}
        if diag.column is not None and diag.column >= 1:
            region["startColumn"] = diag.column
        physical["region"] = region
    return {"physicalLocation": physical}
