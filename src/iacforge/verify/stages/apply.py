"""Stage apply (optional): the candidate deploys to, and is torn down from, an emulated AWS.

`terraform apply`, then `terraform destroy`, against the loopback moto server in a fresh
emulated account per run, so candidates never see each other's resources. Then a check that
the teardown left nothing: terraform's state is empty, and a refresh of the state apply left
finds every resource gone from the emulator.

`fail` means the emulated AWS refused the configuration (an invalid ARN, overlapping CIDRs, a
dependency terraform did not order) and carries its message. `error` means the emulator could
not judge: a service or operation moto lacks (the diagnostic names it), a bucket name another
run holds, a timeout, or a teardown the emulator contradicts.

Apply re-plans instead of applying plan's `tfplan`: a saved plan carries the configuration it
was made from, and apply needs provider settings plan does not (see `override`).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.hcl.model import TerraformModel
from iacforge.verify.context import StageContext
from iacforge.verify.sandbox.process import ProcessResult
from iacforge.verify.terraform.diagnostics import fallback, from_json_stream
from iacforge.verify.terraform.emulator import aws_env, new_account_id

ID = "apply"
SENTENCE = "Ensure `terraform apply` and `terraform destroy` succeed against the AWS emulator."
NEEDS: tuple[str, ...] = ("plan",)
RULE = "terraform/apply"
DESTROY_RULE = "terraform/destroy"
#: Rule of the diagnostics that say the emulator, not the candidate, is why apply failed.
EMULATOR_RULE = "iacforge/emulator"
TEARDOWN_RULE = "iacforge/teardown"
#: Written into the workspace beside the candidate's files; checkov and lint never see it.
OVERRIDE = "iacforge_apply_override.tf"
_FLAGS = ("-auto-approve", "-input=false", "-no-color", "-json", "-lock=false")
_OPERATION = re.compile(r"operation error (?P<service>[^:]+): (?P<operation>\w+)")
#: Signs, in a failed call's message, that moto lacks the service or operation.
_UNSERVED = ("statuscode: 5", "not yet implemented", "has not been implemented",
             "the requested url was not found on the server")
#: AWS clients retry only what is not the request's fault (throttling, server errors, dropped
#: connections); a call that exhausted its retries says nothing about the candidate.
_RETRIES_EXHAUSTED = "exceeded maximum number of attempts"
#: Attempts per AWS call at apply: a few, for a dropped connection, not the provider's 25.
MAX_RETRIES = 3
_AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"


def run(ctx: StageContext) -> StageResult:
    assert ctx.terraform is not None and ctx.workdir is not None and ctx.model is not None
    if ctx.aws_endpoint is None:
        return StageResult(ID, "error", (Diagnostic(
            "error", "no AWS emulator", "apply needs the loopback AWS emulator",
            rule_id=EMULATOR_RULE),))
    if OVERRIDE in ctx.candidate.files:
        return StageResult(ID, "error", (Diagnostic(
            "error", f"file name {OVERRIDE} is reserved", "the apply stage writes it itself",
            OVERRIDE, rule_id=RULE),))
    (ctx.workdir / OVERRIDE).write_text(override(ctx.model))
    env = aws_env(ctx.aws_endpoint, ctx.settings.region, new_account_id())
    names = bucket_names(ctx.plan or {})
    with names_locked(names, Path(ctx.settings.cache_dir) / "locks"):
        return _deploy(ctx, env)


def override(model: TerraformModel) -> str:
    """The text of the override file apply adds: settings merged over the candidate's own.

    `max_retries`: the provider retries a server error 25 times with back-off, so an
    operation moto lacks (it answers 500) would stall apply for minutes, not fail it.
    `prevent_destroy = false`: the teardown has to be able to remove every resource.
    """
    blocks = [f'provider "aws" {{\n  max_retries = {MAX_RETRIES}\n}}\n']
    for block in model.of_kind("provider"):
        alias = block.attr("alias")
        if block.labels[:1] == ("aws",) and isinstance(alias, str):
            blocks.append(f'provider "aws" {{\n  alias       = {json.dumps(alias)}\n'
                          f"  max_retries = {MAX_RETRIES}\n}}\n")
    for block in model.of_kind("resource"):
        if "lifecycle" in block.body and len(block.labels) == 2:
            kind, name = (json.dumps(label) for label in block.labels)
            blocks.append(f"resource {kind} {name} {{\n  lifecycle {{\n"
                          "    prevent_destroy = false\n  }\n}\n")
    return "\n".join(blocks)


def bucket_names(plan: dict[str, Any]) -> set[str]:
    """The literal S3 bucket names a plan creates (moto, like AWS, shares them across accounts)."""
    names = set()
    for change in plan.get("resource_changes", []):
        after = (change.get("change") or {}).get("after") or {}
        if change.get("type") == "aws_s3_bucket" and isinstance(after.get("bucket"), str):
            names.add(after["bucket"])
    return names


@contextlib.contextmanager
def names_locked(names: set[str], where: Path) -> Iterator[None]:
    """Hold, across threads and processes, a lock for each global name (hashed into 256 lock
    files, taken in order), so two runs never race to create the same bucket."""
    where.mkdir(parents=True, exist_ok=True)
    slots = sorted({hashlib.sha256(name.encode()).hexdigest()[:2] for name in names})
    with contextlib.ExitStack() as held:
        for slot in slots:
            handle = held.enter_context(open(where / f"s3-bucket-{slot}.lock", "w"))
            fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _deploy(ctx: StageContext, env: dict[str, str]) -> StageResult:
    assert ctx.terraform is not None and ctx.workdir is not None
    applied = ctx.terraform.run(["apply", *_FLAGS], ctx.workdir, env=env)
    if applied.timed_out:
        return StageResult(ID, "error", (_timed_out("apply", ctx.settings.timeout),))
    state = _state(ctx.workdir)
    created = _addresses(state)
    found = _errors(applied, RULE, "terraform apply crashed")
    metrics = {"resources": len(created), "apply_seconds": round(applied.seconds, 2),
               "destroy_seconds": 0.0}
    if created:  # also after a failed apply: remove what it did create
        destroyed = ctx.terraform.run(["destroy", *_FLAGS], ctx.workdir, env=env)
        metrics["destroy_seconds"] = round(destroyed.seconds, 2)
        if destroyed.timed_out:
            found.append(_timed_out("destroy", ctx.settings.timeout))
        else:
            found += _errors(destroyed, DESTROY_RULE, "terraform destroy crashed")
    if not found:
        found = _left_behind(ctx, env, state)
    judged = any(d.rule_id in (RULE, DESTROY_RULE) for d in found)
    status = "fail" if judged else "error" if found else "pass"
    return StageResult(ID, status, tuple(found), metrics=metrics)


def _errors(out: ProcessResult, rule: str, crashed: str) -> list[Diagnostic]:
    """The error diagnostics of a terraform run, each either the candidate's or the emulator's."""
    found = [d for d in from_json_stream(out, rule_id=rule) if d.severity == "error"]
    if out.returncode != 0 and not found:
        return [fallback(out, summary=crashed, rule_id="iacforge/apply")]
    return [_blame(d) for d in found]


def _blame(diag: Diagnostic) -> Diagnostic:
    """`diag` as the emulator's failure when it is one, naming what it could not serve."""
    text = f"{diag.summary}\n{diag.detail}"
    lower = text.lower()
    where = {"file": diag.file, "line": diag.line, "column": diag.column,
             "address": diag.address, "rule_id": EMULATOR_RULE}
    match = _OPERATION.search(text)
    call = f"{match['service'].strip()} {match['operation']}" if match else None
    if call and any(sign in lower for sign in _UNSERVED):
        return Diagnostic("error", f"the AWS emulator does not implement {call}",
                          "moto answered with a server error (an operation or service it does "
                          f"not implement, or a fault of its own): {diag.summary}", **where)
    if call and _RETRIES_EXHAUSTED in lower:
        return Diagnostic("error", f"the AWS emulator did not serve {call}",
                          "the call failed every time in a way AWS clients retry (a dropped "
                          f"connection, throttling), not for the candidate: {diag.summary}",
                          **where)
    if "connection refused" in lower:
        return Diagnostic("error", "the AWS emulator stopped answering", text.strip(), **where)
    if "BucketAlreadyExists" in text:
        return Diagnostic("error", "bucket name held by another emulated account",
                          "another candidate's run holds this S3 bucket name in the shared "
                          f"emulator (a teardown that failed): {diag.summary}", **where)
    return diag


def _timed_out(command: str, timeout: float) -> Diagnostic:
    after = "nothing was torn down" if command == "apply" else "resources may remain"
    return Diagnostic("error", f"terraform {command} timed out",
                      f"no answer within {timeout:.0f} s; {after}", rule_id="iacforge/apply")


def _state(workdir: Path) -> dict[str, Any]:
    try:
        state = json.loads((workdir / "terraform.tfstate").read_text())
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}


def _addresses(state: dict[str, Any], *, exists_remotely: bool = False) -> set[str]:
    """The managed resource instances in a terraform state (v4), by address.

    With `exists_remotely`, only those whose destroy deletes a remote AWS object: not the
    `aws_default_*` adoptions, `skip_destroy` ones, nor resources of other providers.
    """
    found = set()
    for resource in state.get("resources", []):
        if resource.get("mode") != "managed":
            continue
        kind = resource.get("type", "")
        if exists_remotely and (kind.startswith("aws_default_")
                                or _AWS_PROVIDER not in resource.get("provider", "")):
            continue
        base = ".".join(filter(None, [resource.get("module"), kind, resource.get("name")]))
        for instance in resource.get("instances", []):
            if exists_remotely and (instance.get("attributes") or {}).get("skip_destroy"):
                continue
            key = instance.get("index_key")
            found.add(base if key is None else f"{base}[{json.dumps(key)}]")
    return found


def _left_behind(ctx: StageContext, env: dict[str, str],
                 applied: dict[str, Any]) -> list[Diagnostic]:
    """Diagnostics for what survived a successful destroy, in terraform's state or the emulator.

    The emulator is asked through the provider's own readers: a refresh of the state apply
    left, in which each resource the emulator no longer has shows as deleted.
    """
    assert ctx.terraform is not None and ctx.workdir is not None
    in_state = _addresses(_state(ctx.workdir))
    if in_state:
        return [_survivor(a, "is still in terraform's state after destroy")
                for a in sorted(in_state)]
    created = _addresses(applied, exists_remotely=True)
    if not created:
        return []
    (ctx.workdir / "terraform.tfstate").write_text(json.dumps(applied))
    refreshed = ctx.terraform.run(["plan", "-refresh-only", "-input=false", "-no-color",
                                   "-json", "-lock=false"], ctx.workdir, env=env)
    if refreshed.timed_out or refreshed.returncode != 0:
        why = [d.summary for d in from_json_stream(refreshed, rule_id=TEARDOWN_RULE)
               if d.severity == "error"] or [(refreshed.stderr or "timed out").strip()[-500:]]
        return [Diagnostic("error", "could not confirm the teardown",
                           "refreshing the state apply left failed: " + "; ".join(why),
                           rule_id=TEARDOWN_RULE)]
    remaining = created - _deleted(refreshed)
    return [_survivor(a, "still exists in the emulator after destroy") for a in sorted(remaining)]


def _deleted(out: ProcessResult) -> set[str]:
    """Addresses a refresh-only plan (`-json`) found deleted outside terraform."""
    gone = set()
    for line in out.stdout.splitlines():
        try:
            message = json.loads(line)
        except ValueError:
            continue
        if not isinstance(message, dict) or message.get("type") != "resource_drift":
            continue
        change = message.get("change") or {}
        if change.get("action") == "delete":
            gone.add((change.get("resource") or {}).get("addr"))
    return gone


def _survivor(address: str, what: str) -> Diagnostic:
    return Diagnostic("error", f"{address} {what}",
                      "terraform destroy reported success; the verifier cannot vouch for "
                      "this teardown", address=address,
                      rule_id=TEARDOWN_RULE)
