"""Which candidates a child module of a batch can stand for, and why the others cannot.

A candidate run alone is a root module. As a child it must be judged the same, so these go
one by one:
- module blocks (they need `terraform get`), and files other than top-level `.tf`/`.tf.json`
  (tfvars set variables only in a root; other files are read relative to the root);
- override files (`override.tf`, `*_override.tf`), which merge with what the batch moves;
- variables without a default (a root asks for them, a module call must pass them), with
  validation rules (a root reports a failed rule at the variable, a child at the call), or
  ephemeral (as are ephemeral outputs and resources: root-only, or shown only in a root);
- `import`, `moved` and `removed` blocks (root-module workflows; addresses change);
- required_providers with configuration_aliases, and data `terraform_remote_state`;
- outputs whose `sensitive` is not a literal (a proxy output must copy it), and outputs not
  marked sensitive whose value validate already sees as sensitive (a sensitive variable,
  through locals, or `sensitive()`): a root fails validate there, a child's proxy cannot
  see module values until plan;
- `path.module`, `path.root`, `path.cwd` and file functions (paths differ in a batch).
"""

from __future__ import annotations

import re

from iacforge.hcl.model import Block, TerraformModel
from iacforge.verify.batch.layout import literal_flag

_TOP_LEVEL_TF = re.compile(r"^[^/]+\.tf(\.json)?$")
_OVERRIDE = re.compile(r"(^|_)override\.tf(\.json)?$")
_PATHS = re.compile(r"\bpath\s*\.\s*(module|root|cwd)\b|\b(file\w*|templatefile|abspath)\s*\(")
_ROOT_ONLY = ("import", "moved", "removed", "ephemeral", "module")
_SENSITIVE_CALL = re.compile(r"(?<!non)sensitive\s*\(")
_REFERENCE = re.compile(r"\b(?:var|local)\.[A-Za-z_][\w-]*")


def root_only(files: dict[str, str], model: TerraformModel) -> str | None:
    """Why this candidate would not be judged as a child module the way it is as a root."""
    for name in files:
        if not _TOP_LEVEL_TF.match(name) or _OVERRIDE.search(name):
            return f"file {name!r} is not a plain top-level .tf file"
    for block in model.blocks:
        reason = _block_reason(block)
        if reason:
            return reason
    if any(_PATHS.search(text) for text in files.values()):
        return "it uses path.* or file functions"
    secret = _sensitive_output(model)
    return f"output {secret!r} shows a sensitive value" if secret else None


def _block_reason(block: Block) -> str | None:
    kind, labels, body = block.kind, block.labels, block.body
    name = labels[0] if labels else kind
    if kind in _ROOT_ONLY:
        return f"{kind} blocks"
    if kind == "variable" and ("default" not in body or "validation" in body
                               or "ephemeral" in body):
        return f"variable {name!r} has no default, validation rules, or is ephemeral"
    if kind == "output" and ("ephemeral" in body or (
            "sensitive" in body and literal_flag(block.attr("sensitive")) is None)):
        return f"output {name!r} is ephemeral or not literally sensitive"
    if kind == "data" and name == "terraform_remote_state":
        return "terraform_remote_state"
    if kind == "terraform" and "configuration_aliases" in repr(body):
        return "configuration_aliases"
    return None


def _sensitive_output(model: TerraformModel) -> str | None:
    """An output not marked sensitive whose value may carry a sensitive mark at validate."""
    tainted = {f"var.{b.labels[0]}" for b in model.of_kind("variable")
               if b.labels and literal_flag(b.attr("sensitive")) is not False
               and "sensitive" in b.body}
    locals_ = {f"local.{name}": repr(value) for b in model.of_kind("locals")
               for name, value in b.body.items()}
    grew = True
    while grew:
        grew = False
        for name, text in locals_.items():
            if name not in tainted and _carries(text, tainted):
                tainted.add(name)
                grew = True
    for block in model.of_kind("output"):
        if literal_flag(block.attr("sensitive")) is not True and \
                _carries(repr(block.body.get("value")), tainted):
            return block.labels[0] if block.labels else "?"
    return None


def _carries(text: str, tainted: set[str]) -> bool:
    return bool(_SENSITIVE_CALL.search(text)) or any(
        ref in tainted for ref in _REFERENCE.findall(text))
