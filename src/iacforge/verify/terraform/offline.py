"""What a candidate needs that an offline run cannot provide: other providers, remote modules."""

from __future__ import annotations

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import TerraformModel

#: Provider local names the offline base installs. `terraform` is built in.
OFFLINE_PROVIDERS = frozenset({"aws", "terraform"})


def used_providers(model: TerraformModel) -> dict[str, str]:
    """Provider local name → the address of the first block that uses it."""
    used: dict[str, str] = {}
    for block in model.blocks:
        if block.kind in ("resource", "data", "ephemeral") and block.labels:
            used.setdefault(block.labels[0].split("_", 1)[0], block.address)
        elif block.kind == "provider" and block.labels:
            used.setdefault(block.labels[0], block.address)
        elif block.kind == "terraform":
            required = block.body.get("required_providers", [])
            # HCL gives a list of blocks, .tf.json an object (or a list of them)
            for providers in required if isinstance(required, list) else [required]:
                if isinstance(providers, dict):
                    for name in providers:
                        used.setdefault(name, "terraform.required_providers")
    return used


def is_local_source(source: str) -> bool:
    return source.startswith(("./", "../"))


def offline_gaps(model: TerraformModel) -> list[Diagnostic]:
    """Diagnostics for everything the verifier cannot provide without a network."""
    gaps: list[Diagnostic] = []
    for name, address in sorted(used_providers(model).items()):
        if name not in OFFLINE_PROVIDERS:
            gaps.append(Diagnostic(
                "error", f"provider {name!r} is not available offline",
                f"only hashicorp/aws is mirrored; the verifier cannot judge code that needs "
                f"the {name!r} provider", address=address, rule_id="iacforge/offline-provider"))
    for block in model.of_kind("module"):
        source = str(block.attr("source") or "")
        if not is_local_source(source):
            gaps.append(Diagnostic(
                "error", "remote module not fetched",
                f"module source {source!r} would be downloaded; iacforge never downloads modules",
                block.file, block.start_line, address=block.address,
                rule_id="iacforge/remote-module"))
    return gaps
