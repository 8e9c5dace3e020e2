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
