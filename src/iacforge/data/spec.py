"""Spec: a symbolic Terraform configuration that renders to HCL and states facts for intents.

The synthesizer and the mutation maker work on specs, never on HCL text: a spec knows which
values are literals (and so can be checked by value in the plan), which are references (and
so can be checked in the plan's `configuration`), and which alternatives a value had, so a
mutation can change it. `render` writes `terraform fmt`-style HCL.

>>> bucket = Resource("aws_s3_bucket", "logs", Body({"bucket": "acme-logs"}))
>>> print(Spec((bucket,)).render()["main.tf"].split("\\n\\n")[-1].strip())
resource "aws_s3_bucket" "logs" {
  bucket = "acme-logs"
}
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any, Literal

#: Scalar literal values: rendered as HCL literals, checked by value in the plan.
Scalar = str | int | float | bool


@dataclass(frozen=True)
class Ref:
    """A reference to another block's attribute: `aws_vpc.main.id`, `data.aws_ami.x.id`."""

    address: str
    attr: str = "id"

    @property
    def type(self) -> str:
        """The referenced block's type (`aws_vpc`)."""
        parts = self.address.split(".")
        return parts[1] if parts[0] == "data" else parts[0]

    @property
    def text(self) -> str:
        return f"{self.address}.{self.attr}"


@dataclass(frozen=True)
class Raw:
    """An expression written as is (`jsonencode({...})`).

    `contains`: substrings the planned value holds (checked when the expression has no
    references, so the value is known at plan time); `refs`: references inside it.
    """

    text: str
    contains: tuple[str, ...] = ()
    refs: tuple[Ref, ...] = ()
    #: How a request states this value ("lets lambda.amazonaws.com assume it").
    phrase: str = ""


@dataclass(frozen=True)
class Body:
    """The arguments of a block: attributes (name → value) and nested blocks, in order."""

    attrs: dict[str, Any] = field(default_factory=dict)
    blocks: tuple[tuple[str, Body], ...] = ()

    def with_attrs(self, **changes: Any) -> Body:
        """A copy with attributes set (a value of None removes the attribute)."""
        attrs = {**self.attrs, **changes}
        return dataclasses.replace(self, attrs={k: v for k, v in attrs.items() if v is not None})


@dataclass(frozen=True)
class Resource:
    """A `resource` or `data` block of a spec."""

    type: str
    name: str
    body: Body
    mode: Literal["resource", "data"] = "resource"
    #: Attributes a request does not state and an intent does not check (passwords, names
    #: that only need to be unique).
    quiet: frozenset[str] = frozenset()
    #: Other values each attribute could have taken (a mutation may change it to one).
    choices: dict[str, tuple[Scalar, ...]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        prefix = "data." if self.mode == "data" else ""
        return f"{prefix}{self.type}.{self.name}"

    def ref(self, attr: str = "id") -> Ref:
        return Ref(self.address, attr)

    def refs(self) -> list[Ref]:
        """Every reference anywhere in the block."""
        return list(_refs_in(self.body))


@dataclass(frozen=True)
class Spec:
    """A root module: resources (and data sources) in one region."""

    resources: tuple[Resource, ...]
    region: str = "us-east-1"

    def render(self) -> dict[str, str]:
        """The configuration as `{"main.tf": text}`."""
        parts = [_PREAMBLE, f'provider "aws" {{\n  region = "{self.region}"\n}}\n']
        parts += [_block(f'{r.mode} "{r.type}" "{r.name}"', r.body, 0) for r in self.resources]
        return {"main.tf": "\n".join(parts)}

    @property
    def types(self) -> tuple[str, ...]:
        """Resource types (data sources left out) in first-seen order."""
        return tuple(dict.fromkeys(r.type for r in self.resources if r.mode == "resource"))

    def get(self, address: str) -> Resource:
        return next(r for r in self.resources if r.address == address)

    def replace(self, address: str, new: Resource | None) -> Spec:
        """A copy with one resource replaced (or removed, when `new` is None)."""
        kept = tuple(new if r.address == address else r for r in self.resources
                     if r.address != address or new is not None)
        return dataclasses.replace(self, resources=kept)

    def referenced(self) -> set[str]:
        """Addresses some block refers to."""
        return {ref.address for r in self.resources for ref in r.refs()}


_PREAMBLE = ('terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
             '      version = "~> 5.0"\n    }\n  }\n}\n')


def direct_refs(value: Any) -> list[Ref]:
    """The references an argument's value makes itself: a Ref, a Raw's, a list's Ref items."""
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, Raw):
        return list(value.refs)
    if isinstance(value, list | tuple):
        return [v for v in value if isinstance(v, Ref)]
    return []


def _refs_in(value: Any) -> list[Ref]:
    if isinstance(value, Ref):
        return [value]
    if isinstance(value, Raw):
        return list(value.refs)
    if isinstance(value, Body):
        found = [ref for v in value.attrs.values() for ref in _refs_in(v)]
        return found + [ref for _, b in value.blocks for ref in _refs_in(b)]
    if isinstance(value, list | tuple):
        return [ref for v in value for ref in _refs_in(v)]
    if isinstance(value, dict):
        return [ref for v in value.values() for ref in _refs_in(v)]
    return []


def _block(head: str, body: Body, depth: int) -> str:
    pad = "  " * (depth + 1)
    lines = [f"{'  ' * depth}{head} {{"]
    width = max((len(k) for k, v in body.attrs.items() if not _multiline(v)), default=0)
    for name, value in body.attrs.items():
        if _multiline(value):
            lines.append(f"{pad}{name} = {expression(value, depth + 1)}")
        else:
            lines.append(f"{pad}{name.ljust(width)} = {expression(value, depth + 1)}")
    for name, nested in body.blocks:
        if len(lines) > 1:
            lines.append("")
        lines.append(_block(name, nested, depth + 1).rstrip("\n"))
    lines.append(f"{'  ' * depth}}}")
    return "\n".join(lines) + "\n"


def _multiline(value: Any) -> bool:
    return (isinstance(value, dict) and bool(value)) or (isinstance(value, Raw)
                                                         and "\n" in value.text)


def expression(value: Any, depth: int = 0) -> str:
    """A value as an HCL expression."""
    if isinstance(value, Ref):
        return value.text
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(expression(v, depth) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        pad = "  " * (depth + 1)
        width = max(len(_key(k)) for k in value)
        items = [f"{pad}{_key(k).ljust(width)} = {expression(v, depth + 1)}"
                 for k, v in value.items()]
        return "{\n" + "\n".join(items) + "\n" + "  " * depth + "}"
    raise TypeError(f"cannot write {type(value).__name__} as HCL: {value!r}")


def _key(key: str) -> str:
    return key if key.replace("_", "a").replace("-", "a").isalnum() and not key[0].isdigit() \
        else json.dumps(key)
