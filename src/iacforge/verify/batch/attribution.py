"""Give each terraform diagnostic of a batch run back to its candidate, as a root module would.

A diagnostic names its candidate through its range (`iacforge_c3/main.tf`, or the group
module holding a provider block hoisted out of several candidates) or its address
(`module.iacforge_c3.aws_s3_bucket.b`). It is then rewritten as the candidate's own
run reports it: file `main.tf`, address `aws_s3_bucket.b`, "in the root module". A rewritten
diagnostic that still mentions the batch is *doubtful*: the candidate is verified on its own
instead, so a wording we did not foresee costs time, never a wrong certificate.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from iacforge.verify.batch.layout import PREFIX, ROOT_FILE, Layout

#: Warnings terraform gives only to child modules, so never to a candidate run on its own.
BATCH_ONLY = frozenset({"Redundant empty provider block"})
_GROUP_PROVIDER = re.compile(rf"^{PREFIX}p(\d+)/provider\.tf$")
_MEMBER_DIR = re.compile(rf"^{PREFIX}c(\d+)/(.+)$")
_MEMBER_NAMED = re.compile(rf"\b{PREFIX}c(\d+)\b")

Kind = Literal["members", "walked", "dropped", "unknown"]


@dataclass(frozen=True)
class Attribution:
    """Whose a diagnostic is: member index → the rewritten diagnostic, or None if doubtful."""

    kind: Kind
    members: dict[int, dict[str, Any] | None] = field(default_factory=dict)


def attribute(diag: dict[str, Any], layout: Layout, active: set[int]) -> Attribution:
    """Attribute one terraform JSON diagnostic among the `active` members of a batch run."""
    if diag.get("summary") in BATCH_ONLY:
        return Attribution("dropped")
    rng = diag.get("range") or {}
    filename = rng.get("filename") or ""
    line = (rng.get("start") or {}).get("line")
    first, last = layout.sentinel
    if filename == ROOT_FILE and line is not None and first <= line <= last:
        return Attribution("walked")
    if group := _GROUP_PROVIDER.match(filename):
        members = layout.group_members(int(group[1]), active)
        return Attribution("members", {i: _from_group(diag, layout, i) for i in members})
    if own := _MEMBER_DIR.match(filename):
        index = int(own[1])
        if index in active:
            return Attribution("members", {index: rewrite(diag, layout, index)})
        return Attribution("unknown")
    if filename:
        index = layout.member_at(filename, line)
        # A module call or proxy output of ours: a batch artefact in the candidate's name.
        return Attribution("unknown") if index is None else Attribution("members", {index: None})
    named = {int(m[1]) for m in _MEMBER_NAMED.finditer(_texts(diag))} & active
    if len(named) == 1:
        index = named.pop()
        return Attribution("members", {index: rewrite(diag, layout, index)})
    return Attribution("unknown")


def rewrite(diag: dict[str, Any], layout: Layout, index: int) -> dict[str, Any] | None:
    """`diag` as member `index` run alone would report it, or None when that is in doubt."""
    out = copy.deepcopy(diag)
    member = layout.members[index]
    rng = out.get("range")
    if rng and rng.get("filename", "").startswith(member.dir + "/"):
        rng["filename"] = rng["filename"][len(member.dir) + 1:]
    paths = [layout.module_path(index)]
    if layout.group_of(index) is not None:  # the hoisted provider's own address
        paths.append(paths[0].rsplit(".module.", 1)[0])
    for key in ("summary", "detail", "address"):
        if isinstance(out.get(key), str):
            out[key] = _reroot_text(out[key], paths, member.dir)
    return None if PREFIX in _texts(out) else out


def _from_group(diag: dict[str, Any], layout: Layout, index: int) -> dict[str, Any] | None:
    """A diagnostic in a hoisted provider block, moved to where that block is in `index`."""
    member = layout.members[index]
    assert member.hoist is not None and member.group_key is not None
    out = copy.deepcopy(diag)
    rng = out["range"]
    rng["filename"] = member.hoist.file
    lines, byte = member.hoist.line - 1, member.hoist.byte - (member.group_key[1] - 1)
    for end in ("start", "end"):
        pos = rng.get(end)
        if pos:
            pos["line"] = pos.get("line", 1) + lines
            pos["byte"] = pos.get("byte", 0) + byte
    snippet = out.get("snippet")
    if snippet and isinstance(snippet.get("start_line"), int):
        snippet["start_line"] += lines
    return rewrite(out, layout, index)


def _reroot_text(text: str, paths: list[str], directory: str) -> str:
    for path in paths:
        text = text.replace(f"in {path}.", "in the root module.").replace(f"{path}.", "")
    return text.replace(f"{directory}/", "")


def _texts(diag: dict[str, Any]) -> str:
    rng = diag.get("range") or {}
    return "\n".join(str(diag.get(k) or "") for k in ("summary", "detail", "address")) + \
        "\n" + str(rng.get("filename") or "")
