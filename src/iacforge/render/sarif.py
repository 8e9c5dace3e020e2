"""SARIF 2.1.0 output, in the subset GitHub code scanning ingests.

One run holds the results of every certificate. A diagnostic without a rule id reports under
`iacforge/<stage>`. A stage that did not pass yet said nothing gets one result of its own, so
a failed verification never reads as a clean scan; a stage that was skipped reports nothing.
A finding the code suppressed (a `checkov:skip` comment) is a result with an in-source
suppression and its justification, as checkov writes it.

Locations: a candidate read from disk (its `source` is a directory, or a file beside its
files) names each file relative to the working directory under `uriBaseId` `%SRCROOT%`, so
code scanning files an alert on the right file and two root modules' `main.tf` stay apart;
a file outside the working directory gets an absolute `file:` URI. Other candidates (LLM
text) name the file as the certificate does. GitHub rejects the whole upload when any result
lacks a physical location, so a diagnostic without a file is anchored, file-level, at the
candidate's first file; only when the certificate names no file at all does a result go
without a location. A region is written only for a known line, its other parts only with it
and each at least 1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from iacforge.certificate import Certificate
from iacforge.diagnostics import NOT_PASSED, Diagnostic, StageResult
from iacforge.render.version import iacforge_version

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS: dict[str, str] = {"error": "error", "warning": "warning", "info": "note"}
#: The base that relative artifact URIs are resolved against (the working directory).
SRCROOT = "%SRCROOT%"
#: Rules whose findings come from a terraform command: its documentation explains them.
_TERRAFORM_DOCS = {
    "terraform/validate": ("terraform validate found an error in the configuration.",
                           "https://developer.hashicorp.com/terraform/cli/commands/validate"),
    "terraform/plan": ("terraform plan could not plan the configuration.",
                       "https://developer.hashicorp.com/terraform/cli/commands/plan"),
    "terraform/apply": ("terraform apply (against a local AWS emulator) failed.",
                        "https://developer.hashicorp.com/terraform/cli/commands/apply"),
}
_TFLINT_DOCS = ("https://github.com/terraform-linters/tflint-ruleset-terraform/blob/main/docs/"
                "rules/{}.md")


def render_sarif(certs: list[Certificate]) -> str:
    """The certificates as one SARIF 2.1.0 log (indented JSON)."""
    return json.dumps(sarif_log(certs), indent=2)


def sarif_log(certs: list[Certificate], *, cwd: Path | None = None) -> dict[str, Any]:
    """The SARIF log as a dict: one run, rules in order of first use, results in stage order.

    Args:
        cwd: the directory relative URIs start from (default: the working directory).
    """
    cwd = (cwd or Path.cwd()).resolve()
    rules: dict[str, dict[str, Any]] = {}
    results: list[dict[str, Any]] = []
    for cert in certs:
        base = _base(cert)
        for stage in cert.stages:
            for diag in _reported(stage):
                rule_id = diag.rule_id or f"iacforge/{stage.stage}"
                rules.setdefault(rule_id, _rule(rule_id, diag))
                results.append(_result(rule_id, diag, stage, cert, base, cwd))
    driver = {"name": "iacforge", "version": iacforge_version(), "rules": list(rules.values())}
    run: dict[str, Any] = {"tool": {"driver": driver}, "results": results}
    if any(loc["physicalLocation"]["artifactLocation"].get("uriBaseId") == SRCROOT
           for r in results for loc in r.get("locations", ())):
        run["originalUriBaseIds"] = {SRCROOT: {"uri": cwd.as_uri().rstrip("/") + "/"}}
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _reported(stage: StageResult) -> tuple[Diagnostic, ...]:
    if stage.status == "skipped":
        return ()  # its one line says which stage blocked it; that stage reports
    if stage.diagnostics or stage.status not in NOT_PASSED:
        return stage.diagnostics
    return (Diagnostic("error", f"The {stage.stage} stage ended with status {stage.status}."),)


def _rule(rule_id: str, diag: Diagnostic) -> dict[str, Any]:
    """The rule's descriptions, and a help URI where its tool documents it."""
    help_uri = None
    if rule_id in _TERRAFORM_DOCS:
        text, help_uri = _TERRAFORM_DOCS[rule_id]
        full = text
    elif diag.rule_id:
        text = diag.summary or rule_id
        full = f"{text} ({rule_id})"
        if rule_id.startswith("CKV") and diag.detail.startswith("https://"):
            help_uri = diag.detail.split()[0]  # checkov's guideline for the check
        elif rule_id.startswith("terraform_"):
            help_uri = _TFLINT_DOCS.format(rule_id)
    else:  # a stage-derived id groups unrelated findings: a generic description
        stage = rule_id.removeprefix("iacforge/")
        text = f"A finding of the iacforge {stage} stage"
        full = f"{text}; each result's message says what was found."
    rule: dict[str, Any] = {"id": rule_id, "shortDescription": {"text": text},
                            "fullDescription": {"text": full}}
    if help_uri:
        rule["helpUri"] = help_uri
    return rule


def _result(rule_id: str, diag: Diagnostic, stage: StageResult, cert: Certificate,
            base: Path | None, cwd: Path) -> dict[str, Any]:
    text = "\n".join(part for part in (diag.summary, diag.detail.strip()) if part) or rule_id
    result: dict[str, Any] = {
        "ruleId": rule_id,
        "level": LEVELS[diag.severity],
        "message": {"text": text},
    }
    location = _location(diag, cert, base, cwd)
    if location:
        result["locations"] = [location]
    if diag.suppressed is not None:
        result["suppressions"] = [{"kind": "inSource", "justification": diag.suppressed}]
    properties = {"stage": stage.stage, "status": stage.status, "contentHash": cert.content_hash}
    if cert.source:
        properties["source"] = cert.source
    if diag.address:
        properties["address"] = diag.address
    result["properties"] = properties
    return result


def _base(cert: Certificate) -> Path | None:
    """The directory on disk the certificate's files are in, or None (LLM text, stdin)."""
    if not cert.source or not cert.files:
        return None
    source = Path(cert.source)
    base = source if source.is_dir() else source.parent
    if all((base / name).is_file() for name in cert.files):
        return base.resolve()
    return None


def _location(diag: Diagnostic, cert: Certificate, base: Path | None,
              cwd: Path) -> dict[str, Any] | None:
    file = (diag.file or (cert.files[0] if cert.files else "")).replace("\\", "/")
    if not file:
        return None
    artifact: dict[str, Any] = {"uri": quote(file)}
    if base is not None:
        path = base / file
        rel = os.path.relpath(path, cwd)
        if rel == ".." or rel.startswith("../"):
            artifact = {"uri": path.as_uri()}
        else:
            artifact = {"uri": quote(Path(rel).as_posix()), "uriBaseId": SRCROOT}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if diag.file and diag.line is not None and diag.line >= 1:
        physical["region"] = _region(diag)
    return {"physicalLocation": physical}


def _region(diag: Diagnostic) -> dict[str, int]:
    """startLine, and startColumn / endLine / endColumn where known and consistent."""
    assert diag.line is not None
    region = {"startLine": diag.line}
    if diag.column is not None and diag.column >= 1:
        region["startColumn"] = diag.column
    if diag.end_line is not None and diag.end_line >= diag.line:
        region["endLine"] = diag.end_line
        if diag.end_column is not None and diag.end_column >= 1 and (
                diag.end_line > diag.line or diag.end_column >= region.get("startColumn", 1)):
            region["endColumn"] = diag.end_column
    return region
