"""Run terraform validate, plan and show over one batch, and record each candidate's share.

The result is, per member, what each command would have printed for that candidate alone
(`Recording`): the validate JSON, the plan's JSON-lines diagnostics and exit code, and its
own `show -json` document. A member with no recording for a command is verified on its own.

Rounds, because one candidate can stop terraform for all:
- validate: a configuration error anywhere stops terraform before the graph walk, so the
  other members' walk diagnostics are missing. Members with errors are final (run alone they
  would stop at the same point); the rest are validated again until a round in which the
  sentinel's error shows that the walk ran. Such error-only rounds take ~0.2 s.
- plan: any error fails the whole plan and writes no plan file. Members with errors are final
  (the walk goes on past a failed node; only its dependents stop, and members share none) and
  the rest are planned again until a plan succeeds; then one `show -json` is split. Errors
  from plan's own validation, before the planning walk (no sentinel warning), are not final:
  a child module sees its variables' values there, where a root sees unknowns.
A diagnostic that names no member splits the round's members in halves that run apart; a
timeout or a crash gives them up to the one-by-one path. Errors that mean the provider
process itself died are doubtful for every member that got them: a shared process fails
its neighbours too.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from pathlib import Path
from typing import Any

from iacforge.verify.batch.attribution import attribute
from iacforge.verify.batch.layout import Layout
from iacforge.verify.batch.plan_split import split_plan
from iacforge.verify.sandbox.process import ProcessResult
from iacforge.verify.sandbox.workspace import scratch_dir
from iacforge.verify.terraform.runner import Terraform

log = logging.getLogger(__name__)

VALIDATE = ("validate", "-json", "-no-color")
PLAN = ("plan", "-input=false", "-no-color", "-json", "-lock=false", "-out=tfplan")
SHOW = ("show", "-json", "tfplan")
#: Plan errors that mean a provider process failed, not the resource that reported it.
_CONTAGIOUS = ("plugin did not respond", "plugin exited", "rpc error", "unexpected eof",
               "the plugin encountered an error")

Recording = dict[tuple[str, ...], ProcessResult]
_Found = dict[int, list[dict[str, Any]]]


class BatchRun:
    """One batch's working directory and the recordings made in it."""

    def __init__(self, terraform: Terraform, layout: Layout, *, env: dict[str, str],
                 timeout: float) -> None:
        self.tf = terraform
        self.layout = layout
        self.env = env
        self.timeout = timeout
        self.recordings: dict[int, Recording] = {i: {} for i in layout.members}

    def run(self, plan: set[int]) -> dict[int, Recording]:
        """Validate every member, then plan those in `plan` that validated."""
        workdir = Path(tempfile.mkdtemp(prefix="batch-", dir=scratch_dir()))
        try:
            self.tf.link(workdir)
            self.layout.write_children(workdir)
            valid = self._validate(workdir, set(self.layout.members))
            if valid & plan:
                self._plan(workdir, valid & plan)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        return self.recordings

    def _command(self, workdir: Path, argv: tuple[str, ...], active: set[int], *,
                 env: dict[str, str] | None = None) -> ProcessResult:
        self.layout.write_root(workdir, active, validating=argv == VALIDATE)
        out = self.tf.run(list(argv), workdir, env=env, timeout=self.timeout)
        log.debug("batch %s of %d members: exit %s in %.1f s", argv[0], len(active),
                  out.returncode, out.seconds)
        return out

    def _attribute(self, diags: list[dict[str, Any]], active: set[int]
                   ) -> tuple[_Found, set[int], bool, bool]:
        """Diagnostics per member, doubtful members, whether the walk ran, whether all fit."""
        found: _Found = {i: [] for i in active}
        doubtful: set[int] = set()
        walked, known = False, True
        for diag in diags:
            where = attribute(diag, self.layout, active)
            walked |= where.kind == "walked"
            known &= where.kind != "unknown"
            if where.kind == "unknown":
                log.debug("batch diagnostic names no member: %s", json.dumps(diag)[:500])
            for index, rewritten in where.members.items():
                if rewritten is None:
                    log.debug("member %d goes one by one: %s", index, json.dumps(diag)[:500])
                    doubtful.add(index)
                else:
                    found[index].append(rewritten)
        return found, doubtful, walked, known

    def _validate(self, workdir: Path, members: set[int]) -> set[int]:
        valid: set[int] = set()
        work = [set(members)]
        while work:
            pending = work.pop()
            out = self._command(workdir, VALIDATE, pending)
            try:
                report = json.loads(out.stdout)
            except ValueError:
                continue  # crashed or timed out: these go one by one
            found, doubtful, walked, known = self._attribute(report.get("diagnostics", []),
                                                             pending)
            failed = {i for i, ds in found.items() if _has_error(ds)} | doubtful
            final = pending if walked else failed
            if not known or not final:  # a stranger's diagnostic, or no walk and no culprit
                work += _halves(pending)
                continue
            for index in final - doubtful:
                self.recordings[index][VALIDATE] = _validate_result(found[index], out)
                if not _has_error(found[index]):
                    valid.add(index)
            if pending - final:
                work.append(pending - final)
        return valid

    def _plan(self, workdir: Path, members: set[int]) -> None:
        work = [set(members)]
        while work:
            pending = work.pop()
            out = self._command(workdir, PLAN, pending, env=self.env)
            if out.timed_out:
                continue  # bisecting would wait that long again, and again
            messages = _diagnostic_messages(out.stdout)
            found, doubtful, walked, known = self._attribute(
                [m["diagnostic"] for m in messages], pending)
            doubtful |= {i for i, ds in found.items() if _contagious(ds)}
            failed = {i for i, ds in found.items() if _has_error(ds)}
            if not walked:  # stopped in plan's own validation: errors the planning walk
                doubtful |= failed  # would add are missing
            if not known or (out.returncode != 0) != bool(failed) or (out.returncode == 0
                                                                      and not walked):
                work += _halves(pending)
                continue
            lines = {i: [_message(d) for d in ds] for i, ds in found.items()}
            if out.returncode == 0:
                self._show(workdir, pending - doubtful, lines, out)
                continue
            for index in failed - doubtful:
                self.recordings[index][PLAN] = _result(PLAN, 1, lines[index], out)
            if pending - failed - doubtful:
                work.append(pending - failed - doubtful)

    def _show(self, workdir: Path, members: set[int], lines: dict[int, list[str]],
              planned: ProcessResult) -> None:
        out = self.tf.run(list(SHOW), workdir, env=self.env, timeout=self.timeout)
        try:
            doc = json.loads(out.stdout)
        except ValueError:
            return
        for index in members:
            self.recordings[index][PLAN] = _result(PLAN, 0, lines[index], planned)
            shown = json.dumps(split_plan(doc, self.layout, index))
            self.recordings[index][SHOW] = _result(SHOW, 0, [shown], out)


def _halves(members: set[int]) -> list[set[int]]:
    """Two halves to try apart, or none when there is one member (it goes one by one)."""
    ordered = sorted(members)
    middle = len(ordered) // 2
    return [set(ordered[:middle]), set(ordered[middle:])] if middle else []


def _has_error(diags: list[dict[str, Any]]) -> bool:
    return any(d.get("severity") == "error" for d in diags)


def _contagious(diags: list[dict[str, Any]]) -> bool:
    return any(t in (str(d.get("summary")) + str(d.get("detail"))).lower()
               for d in diags if d.get("severity") == "error" for t in _CONTAGIOUS)


def _validate_result(diags: list[dict[str, Any]], out: ProcessResult) -> ProcessResult:
    errors = sum(d.get("severity") == "error" for d in diags)
    report = {"format_version": "1.0", "valid": errors == 0, "error_count": errors,
              "warning_count": len(diags) - errors, "diagnostics": diags}
    return _result(VALIDATE, 1 if errors else 0, [json.dumps(report, indent=2)], out)


def _result(argv: tuple[str, ...], code: int, lines: list[str],
            out: ProcessResult) -> ProcessResult:
    return ProcessResult(argv=argv, returncode=code, stdout="\n".join(lines) + "\n", stderr="",
                         seconds=out.seconds)


def _diagnostic_messages(stdout: str) -> list[dict[str, Any]]:
    messages = []
    for line in stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        if isinstance(msg, dict) and msg.get("type") == "diagnostic" and "diagnostic" in msg:
            messages.append(msg)
    return messages


def _message(diag: dict[str, Any]) -> str:
    """One line of `plan -json` output carrying `diag`."""
    error = diag.get("severity") == "error"
    return json.dumps({"@level": "error" if error else "warn",
                       "@message": f"{'Error' if error else 'Warning'}: {diag.get('summary', '')}",
                       "@module": "terraform.ui", "diagnostic": diag, "type": "diagnostic"})
