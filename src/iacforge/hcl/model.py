"""TerraformModel: a candidate parsed once into top-level blocks that every stage reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: How many labels each top-level block kind carries.
LABELS: dict[str, int] = {
    "resource": 2,
    "data": 2,
    "ephemeral": 2,
    "module": 1,
    "variable": 1,
    "output": 1,
    "provider": 1,
    "check": 1,
    "locals": 0,
    "terraform": 0,
    "moved": 0,
    "import": 0,
    "removed": 0,
}


@dataclass(frozen=True)
class Block:
    """One top-level block, e.g. `resource "aws_s3_bucket" "logs" { ... }`.

    `body` is the parser's view of the block: attribute values are Python values, and
    expressions are strings in `${...}` form.
    """

    kind: str
    labels: tuple[str, ...]
    body: dict[str, Any]
    file: str
    start_line: int | None = None
    end_line: int | None = None

    def attr(self, name: str, body: dict[str, Any] | None = None) -> Any:
        """The value of attribute `name` in this block's body (or in `body`, a nested block
        of it), None when absent: the one place the parser's wrapping is undone. The HCL
        parser wraps each value of a `.tf` file in a one-element list; `.tf.json` values come
        as written, so a JSON one-element list stays a list.

        >>> tf = Block("output", ("o",), {"value": [["a"]], "n": [{"x": [1]}]}, "main.tf")
        >>> tf.attr("value"), tf.attr("x", tf.attr("n")), tf.attr("missing")
        (['a'], 1, None)
        >>> Block("output", ("o",), {"value": ["a"]}, "main.tf.json").attr("value")
        ['a']
        """
        value = (self.body if body is None else body).get(name)
        if isinstance(value, list) and len(value) == 1 and not self.file.endswith(".json"):
            return value[0]
        return value

    @property
    def address(self) -> str:
        """The Terraform address: `aws_s3_bucket.logs`, `data.aws_ami.x`, `var.region`, …"""
        prefix = {"data": "data.", "variable": "var.", "module": "module.", "output": "output."}
        if self.kind in ("resource", "data", "ephemeral"):
            return prefix.get(self.kind, "") + ".".join(self.labels)
        if self.labels:
            return prefix.get(self.kind, f"{self.kind}.") + self.labels[0]
        return self.kind


@dataclass(frozen=True)
class TerraformModel:
    """All top-level blocks of a root module, with the raw text of each file."""

    files: dict[str, str]
    blocks: tuple[Block, ...]

    def of_kind(self, kind: str) -> list[Block]:
        return [b for b in self.blocks if b.kind == kind]

    def find(self, kind: str, *labels: str) -> Block | None:
        return next(
            (b for b in self.blocks if b.kind == kind and b.labels[: len(labels)] == labels), None
        )
