"""Split the `terraform show -json` document of a batch plan into one document per candidate.

Each document is re-rooted to look exactly as the candidate's own plan would: its child
module becomes `root_module`, addresses lose their `module.…` prefix, the root proxy outputs
get their names back, and the parts terraform writes only for a root module (`variables`,
`provider_config`, `applyable`) are rebuilt the way terraform builds them:

- `variables`: terraform lists each root variable's value; with no input given that is the
  default, which the configuration section already shows after type conversion.
- `provider_config`: the child module's own entries (keys `module.…:aws` become `aws`), and
  for a hoisted block the entry of its group module.
- `applyable`: a plan with any change that is not a no-op to a resource or a root output.
- `prior_state` only when the candidate's refreshed state holds a resource or an output.

Key order follows terraform's (struct fields in declaration order, map keys sorted).
"""

from __future__ import annotations

from typing import Any

from iacforge.verify.batch.layout import PREFIX, Layout, root_output_name


def split_plan(doc: dict[str, Any], layout: Layout, index: int) -> dict[str, Any]:
    """The plan document member `index` would have had, run on its own."""
    path = layout.module_path(index)
    member = layout.members[index]
    outputs = {root_output_name(index, name): name for name in member.outputs}
    config = _config_module(doc.get("configuration", {}).get("root_module", {}), path)
    parts: dict[str, Any] = {}
    for key, value in doc.items():
        if key == "variables":
            continue
        if key == "planned_values":
            variables = {name: {"value": v["default"]}
                         for name, v in sorted((config.get("variables") or {}).items())
                         if "default" in v}
            if variables:
                parts["variables"] = variables
            parts[key] = _values(value, path, outputs)
        elif key in ("resource_drift", "resource_changes"):
            parts[key] = [_change(rc, path) for rc in value if _within(rc["address"], path)]
        elif key == "output_changes":
            parts[key] = {outputs[k]: v for k, v in sorted(value.items()) if k in outputs}
        elif key == "prior_state":
            parts[key] = {**value, "values": _values(value.get("values", {}), path, outputs)}
        elif key == "configuration":
            parts[key] = _configuration(value, config, path, layout.group_of(index))
        elif key == "relevant_attributes":
            parts[key] = [{**ra, "resource": _strip(ra["resource"], path)}
                          for ra in value if _within(ra["resource"], path)]
        elif key == "checks":
            parts[key] = [_check(c, path) for c in value if c["address"].get("module") == path]
        elif key == "applyable":
            parts[key] = _applyable(parts)
        else:
            parts[key] = value
    if "prior_state" in parts and not _has_state(parts["prior_state"]["values"]):
        del parts["prior_state"]
    return {k: v for k, v in parts.items() if v or k in ("applyable", "complete", "errored",
                                                          "planned_values", "configuration")}


def _within(address: str, path: str) -> bool:
    return address.startswith(path + ".")


def _strip(address: str, path: str) -> str:
    return address[len(path) + 1:] if _within(address, path) else address


def _values(values: dict[str, Any], path: str, outputs: dict[str, str]) -> dict[str, Any]:
    """planned_values / prior_state.values: the member's module as root, its outputs renamed."""
    out: dict[str, Any] = {}
    renamed = {outputs[k]: v for k, v in sorted((values.get("outputs") or {}).items())
               if k in outputs}
    if renamed:
        out["outputs"] = dict(sorted(renamed.items()))
    out["root_module"] = _state_module(_find_module(values.get("root_module", {}), path), path)
    return out


def _find_module(module: dict[str, Any], path: str) -> dict[str, Any]:
    for child in module.get("child_modules") or ():
        address = child.get("address", "")
        if address == path:
            return child
        if path.startswith(address + "."):
            return _find_module(child, path)
    return {}


def _state_module(module: dict[str, Any], path: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if module.get("resources"):
        out["resources"] = [_resource(r, path) for r in module["resources"]]
    return out


def _resource(resource: dict[str, Any], path: str) -> dict[str, Any]:
    out = {**resource, "address": _strip(resource["address"], path)}
    if "depends_on" in out:
        out["depends_on"] = [_strip(d, path) for d in out["depends_on"]]
    return out


def _change(change: dict[str, Any], path: str) -> dict[str, Any]:
    out = {k: v for k, v in change.items() if k != "module_address"}
    out["address"] = _strip(change["address"], path)
    return out


def _check(check: dict[str, Any], path: str) -> dict[str, Any]:
    def address(a: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in a.items() if k != "module"}
        if "to_display" in out:
            out["to_display"] = _strip(out["to_display"], path)
        return out

    out = {**check, "address": address(check["address"])}
    if "instances" in check:
        out["instances"] = [{**i, "address": address(i["address"])} for i in check["instances"]]
    return out


def _config_module(root: dict[str, Any], path: str) -> dict[str, Any]:
    """The member's module in the configuration section (module_calls.….module)."""
    module = root
    for step in path.split(".")[1::2]:
        module = ((module.get("module_calls") or {}).get(step) or {}).get("module") or {}
    return module


def _configuration(configuration: dict[str, Any], module: dict[str, Any], path: str,
                   group: int | None) -> dict[str, Any]:
    batch = configuration.get("provider_config") or {}
    sources = {key[len(path) + 1:]: entry for key, entry in batch.items()
               if key.startswith(path + ":")}
    if group is not None:
        sources["aws"] = batch[f"module.{PREFIX}p{group}:aws"]
    providers = {key: {k: v for k, v in entry.items() if k != "module_address"}
                 for key, entry in sorted(sources.items())}
    root = dict(module)
    if root.get("resources"):
        root["resources"] = [{**r, "provider_config_key": r["provider_config_key"].split(":")[-1]}
                             for r in root["resources"]]
    out: dict[str, Any] = {}
    if providers:
        out["provider_config"] = providers
    out["root_module"] = root
    return out


def _applyable(parts: dict[str, Any]) -> bool:
    changes = [rc["change"]["actions"] for rc in parts.get("resource_changes", ())]
    changes += [oc["actions"] for oc in parts.get("output_changes", {}).values()]
    return any(actions != ["no-op"] for actions in changes)


def _has_state(values: dict[str, Any]) -> bool:
    return bool(values.get("outputs") or values.get("root_module", {}).get("resources"))
