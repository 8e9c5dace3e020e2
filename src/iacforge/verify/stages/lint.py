"""Lint stage: tflint's core `terraform` rules when tflint is on PATH, else built-in equivalents.

Why built-in rules: tflint is a Go binary with no Python package, and it cannot be installed
offline here, so the verifier carries its own implementation of the rules we use
(`iacforge.lint`, one module per rule, named and worded as tflint's). When tflint is present it
runs with `--only` those same rules, so either way the stage judges the same things.

tflint runs in a private directory holding only the candidate's `.tf` / `.tf.json` files and an
empty config, with HOME pointed there too: no user config or plugin is read, nothing is
downloaded, and no file iacforge adds to the workspace is linted.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.hcl.model import TerraformModel
from iacforge.hcl.outline import outline
from iacforge.lint import RULES, lint
from iacforge.verify.context import StageContext
from iacforge.verify.sandbox.bwrap import sandbox_runner
from iacforge.verify.sandbox.workspace import UnsafePath, Workspace

ID = "lint"
SENTENCE = "Ensure the configuration follows Terraform's core style rules."
NEEDS: tuple[str, ...] = ("parse",)

_CONFIG = ".tflint.hcl"


class _TflintError(Exception):
    pass


def run(ctx: StageContext) -> StageResult:
    start = time.monotonic()
    if ctx.model is None:
        return StageResult(ID, "skipped", (), 0.0)
    tflint = shutil.which("tflint")
    try:
        diagnostics = _tflint(tflint, ctx, ctx.model) if tflint else lint(ctx.model)
    except _TflintError as exc:
        diagnostic = Diagnostic("error", "tflint could not lint the configuration", str(exc))
        return StageResult(ID, "error", (diagnostic,), time.monotonic() - start)
    metrics = {"issues": len(diagnostics), "linter": "tflint" if tflint else "builtin"}
    status = "fail" if diagnostics else "pass"
    return StageResult(ID, status, tuple(diagnostics), time.monotonic() - start, metrics)


def _tflint(binary: str, ctx: StageContext, model: TerraformModel) -> list[Diagnostic]:
    files = {n: t for n, t in ctx.candidate.files.items() if n.endswith((".tf", ".tf.json"))}
    try:
        workspace = Workspace({**files, _CONFIG: ""})
    except UnsafePath as exc:
        raise _TflintError(str(exc)) from None
    with workspace:
        argv = [binary, "--format=json", "--force", "--call-module-type=none",
                f"--config={workspace.path / _CONFIG}"]
        argv += [f"--only={rule}" for rule in RULES]
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(workspace.path)}
        runner = sandbox_runner(ctx.settings, readonly=(Path(binary).resolve().parent,))
        result = runner(argv, cwd=workspace.path, env=env, timeout=ctx.settings.timeout)
    if result.timed_out:
        raise _TflintError(f"tflint timed out after {ctx.settings.timeout:g} s")
    try:
        doc = json.loads(result.stdout)
    except json.JSONDecodeError:
        raise _TflintError(f"tflint exited {result.returncode}: {result.stderr.strip()}") from None
    errors = [e.get("message", "") for e in doc.get("errors") or []]
    if result.returncode != 0 or errors:
        raise _TflintError("; ".join(errors) or result.stderr.strip())
    return from_tflint(doc, model)


def from_tflint(doc: dict[str, Any], model: TerraformModel) -> list[Diagnostic]:
    """Diagnostics for the issues in tflint's `--format=json` output, on the model's files."""
    out: list[Diagnostic] = []
    for issue in doc.get("issues") or []:
        where = issue.get("range") or {}
        name = os.path.normpath(where.get("filename") or "")
        if name not in model.files:
            continue
        line = (where.get("start") or {}).get("line") or None
        column = (where.get("start") or {}).get("column") or None
        rule = issue.get("rule") or {}
        out.append(Diagnostic(
            "warning", issue.get("message", ""), rule.get("link", ""), file=name, line=line,
            column=column, address=_address_at(model, name, line), rule_id=rule.get("name"),
        ))
    return out


def _address_at(model: TerraformModel, file: str, line: int | None) -> str | None:
    if line is None or not file.endswith(".tf"):
        return None
    return outline(model.files[file]).address_at(line)
