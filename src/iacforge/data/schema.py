"""The mirrored AWS provider's schema (`terraform providers schema -json`), cached, and a check
that a spec sets only arguments the schema knows.

The schema comes from the verifier's prepared provider base directory (the same provider
binary every plan uses); only iacforge's own base configuration is loaded, never candidate
code. It is cached per provider version under the cache dir (~13 MB of JSON, ~0.2 s to read).
"""

from __future__ import annotations

import functools
import json
import os
from pathlib import Path
from typing import Any

from iacforge.config import Settings
from iacforge.data.spec import Body, Resource, Spec
from iacforge.errors import SetupError
from iacforge.verify.sandbox import run_process
from iacforge.verify.terraform import Terraform

_AWS = "registry.terraform.io/hashicorp/aws"


@functools.cache
def provider_schema(cache_dir: str | None = None) -> dict[str, Any]:
    """The AWS provider schema: `{"resource_schemas": …, "data_source_schemas": …}`."""
    settings = Settings.from_env(cache_dir=cache_dir)
    tf = Terraform(settings)
    path = Path(settings.cache_dir) / "schema" / f"aws-{tf.aws_version}.json"
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        base = tf.base
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(base), "LANG": "C.UTF-8",
               "CHECKPOINT_DISABLE": "1", "TF_CLI_CONFIG_FILE": str(base / "cli.tfrc")}
        out = run_process([tf.binary, "providers", "schema", "-json"], cwd=base, env=env,
                          timeout=300)
        if out.returncode != 0:
            raise SetupError(f"terraform providers schema failed in {base}:\n{out.stderr}")
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(out.stdout, encoding="utf-8")
        os.replace(tmp, path)
    return json.loads(path.read_text(encoding="utf-8"))["provider_schemas"][_AWS]


def block_schema(resource: Resource, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The schema block of a resource or data source type, or None when it has none."""
    kind = "data_source_schemas" if resource.mode == "data" else "resource_schemas"
    found = schema[kind].get(resource.type)
    return None if found is None else found["block"]


def unknown_arguments(spec: Spec, schema: dict[str, Any]) -> list[str]:
    """Every argument of `spec` the schema does not have (or has as computed-only), as
    `address: path` strings; empty when the spec fits the schema."""
    problems: list[str] = []
    for resource in spec.resources:
        block = block_schema(resource, schema)
        if block is None:
            problems.append(f"{resource.address}: no such {resource.mode} type")
            continue
        problems += [f"{resource.address}: {p}" for p in _check(resource.body, block, "")]
    return problems


def settable(type_: str, schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The top-level attributes a resource of `type_` may set (name → attribute schema)."""
    block = schema["resource_schemas"].get(type_, {}).get("block", {})
    return {name: a for name, a in block.get("attributes", {}).items()
            if a.get("required") or a.get("optional")}


def _check(body: Body, block: dict[str, Any], where: str) -> list[str]:
    attributes = block.get("attributes", {})
    nested = block.get("block_types", {})
    problems = []
    for name in body.attrs:
        attr = attributes.get(name)
        if attr is None:
            problems.append(f"{where}{name}: unknown argument")
        elif not (attr.get("required") or attr.get("optional")):
            problems.append(f"{where}{name}: computed only, cannot be set")
        elif attr.get("deprecated"):
            problems.append(f"{where}{name}: deprecated")
    for name, inner in body.blocks:
        if name in nested:
            problems += _check(inner, nested[name]["block"], f"{where}{name}.")
        elif name in attributes and _object_collection(attributes[name]):
            problems += _check_object(inner, attributes[name]["type"][1][1], f"{where}{name}.")
        else:
            problems.append(f"{where}{name}: unknown block")
    return problems


def _object_collection(attr: dict[str, Any]) -> bool:
    """An attribute written with block syntax (`ingress { … }`): a list or set of objects."""
    kind = attr.get("type")
    return (isinstance(kind, list) and kind[0] in ("list", "set") and isinstance(kind[1], list)
            and kind[1][0] == "object")


def _check_object(body: Body, fields: dict[str, Any], where: str) -> list[str]:
    problems = [f"{where}{name}: unknown field" for name in body.attrs if name not in fields]
    return problems + [f"{where}{name}: unknown block" for name, _ in body.blocks]
