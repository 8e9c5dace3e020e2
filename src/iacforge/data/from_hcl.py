"""Read a configuration back into a spec, so configurations from anywhere can be mutated.

The parser's view of a block does not say which `[{...}]` is a nested block and which a map
attribute; the provider schema does. Only configurations a spec can stand for convert:
resources and data sources of the AWS provider, no variables, locals, outputs, modules or
meta-arguments (`count`, `for_each`, `depends_on`, `lifecycle`, provisioners). Anything else
gives None, never a spec that renders to a different configuration.

"""

from __future__ import annotations

import json
import re
from typing import Any

from iacforge.data.spec import Body, Raw, Ref, Resource, Spec
from iacforge.hcl.model import Block
from iacforge.hcl.parse import parse_files
from iacforge.hcl.scan import body_items, brace_of, top_level_blocks

_META = frozenset({"count", "for_each", "depends_on", "lifecycle", "provider", "provisioner",
                   "connection", "dynamic"})
_WRAPPED = re.compile(r"^\$\{(.*)\}$", re.S)
_REF = re.compile(r"^((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z_][\w-]*)\.([A-Za-z_]\w*)$")
_REF_IN = re.compile(r"\b((?:data\.)?aws_[a-z0-9_]+\.[A-Za-z_][\w-]*)\.([A-Za-z_]\w*)")


def spec_from_files(files: dict[str, str], schema: dict[str, Any]) -> Spec | None:
    """The spec of a configuration, or None when a spec cannot stand for it."""
    model = parse_files(files).model
    if model is None:
        return None
    region = "us-east-1"
    sources = _sources(files)
    resources: list[Resource] = []
    for block in model.blocks:
        if block.kind == "terraform":
            continue
        if block.kind == "provider" and block.labels == ("aws",):
            found = block.attr("region")
            if not isinstance(found, str) or set(block.body) - {"region"}:
                return None
            region = found
            continue
        if block.kind not in ("resource", "data") or set(block.body) & _META:
            return None
        kind = "data_source_schemas" if block.kind == "data" else "resource_schemas"
        type_schema = schema[kind].get(block.labels[0])
        if type_schema is None:
            return None
        body = _body(block, block.body, type_schema["block"],
                     sources.get((block.kind, *block.labels), {}))
        if body is None:
            return None
        resources.append(Resource(block.labels[0], block.labels[1], body, mode=block.kind))
    return Spec(tuple(resources), region) if resources else None


def _sources(files: dict[str, str]) -> dict[tuple[str, ...], dict[str, str]]:
    """The source text of each top-level attribute value, by block (`resource`, type, name)."""
    found: dict[tuple[str, ...], dict[str, str]] = {}
    for text in files.values():
        for block in top_level_blocks(text):
            if block.kind != "block" or block.name not in ("resource", "data"):
                continue
            values = {}
            for item in body_items(text, brace_of(text, block)):
                if item.kind == "attribute":
                    source = text[item.start:item.end]
                    values[item.name] = source.split("=", 1)[1].strip()
            found[(block.name, *block.labels)] = values
    return found


def _body(block: Block, raw: dict[str, Any], schema: dict[str, Any],
          sources: dict[str, str] | None = None) -> Body | None:
    """`raw`: the body of `block` or of a block nested in it; `sources`: the source text of
    top-level attributes, for expressions kept as written."""
    attributes, nested = schema.get("attributes", {}), schema.get("block_types", {})
    attrs: dict[str, Any] = {}
    blocks: list[tuple[str, Body]] = []
    for name, value in raw.items():
        if name in nested or (name in attributes and _blocks_syntax(value)):
            inner_schema = nested[name]["block"] if name in nested else _object_schema(
                attributes[name])
            for item in value if isinstance(value, list) else [value]:
                inner = _body(block, item, inner_schema) if isinstance(item, dict) else None
                if inner is None:
                    return None
                blocks.append((name, inner))
        elif name in attributes:
            converted = _value(block.attr(name, raw))
            if isinstance(converted, Raw):
                if sources is None or name not in sources:
                    return None  # the parser's text of an expression is not HCL
                converted = Raw(sources[name], refs=converted.refs)
            if converted is None:
                return None
            attrs[name] = converted
        else:
            return None
    return Body(attrs, tuple(blocks))


def _blocks_syntax(value: Any) -> bool:
    """`ingress { … }` parses as a list of dicts whose values are all wrapped in lists."""
    return isinstance(value, list) and bool(value) and all(
        isinstance(v, dict) and all(isinstance(x, list) for x in v.values()) for v in value)


def _object_schema(attribute: dict[str, Any]) -> dict[str, Any]:
    kind = attribute.get("type")
    if isinstance(kind, list) and len(kind) == 2 and isinstance(kind[1], list) \
            and kind[1][0] == "object":
        return {"attributes": {k: {"optional": True} for k in kind[1][1]}}
    return {"attributes": {}}


def _value(value: Any) -> Any:
    """A parsed value as a spec value; None when it is not one a spec can write."""
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        wrapped = _WRAPPED.match(value)
        if wrapped:
            inner = wrapped.group(1).strip()
            ref = _REF.match(inner)
            if ref:
                return Ref(ref.group(1), ref.group(2))
            if re.search(r"\b(var|local|module|path|each|count)\.", inner):
                return None
            return Raw(inner, refs=tuple(Ref(a, b) for a, b in _REF_IN.findall(inner)))
        if "${" in value or "%{" in value:
            return None
        return value
    if isinstance(value, list):
        items = [_value(v) for v in value]
        return None if any(i is None for i in items) else items
    if isinstance(value, dict):
        items = {k: _value(v) for k, v in value.items()}
        return None if any(i is None for i in items.values()) else items
    return None if value is None else json.loads(json.dumps(value))
