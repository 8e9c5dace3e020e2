"""Terraform version constraints (`>= 1.2, < 2.0`, `~> 5.0`): does a version satisfy one?"""

from __future__ import annotations

import re

_PART = re.compile(r"^\s*(=|!=|>=|<=|>|<|~>)?\s*v?(\d+(?:\.\d+){0,2})(?:-[\w.]+)?\s*$")


def _tuple(version: str) -> tuple[int, ...]:
    release = re.split(r"[-+]", version.strip().lstrip("v"), maxsplit=1)[0]  # 1.12.0-alpha1
    return tuple(int(x) for x in release.split("."))


def allows(constraint: str, version: str) -> bool | None:
    """True/False when `constraint` is understood, None when it is not."""
    have = _tuple(version)
    for part in constraint.split(","):
        if not part.strip():
            continue
        match = _PART.match(part)
        if not match:
            return None
        op, want_text = match.group(1) or "=", match.group(2)
        want = _tuple(want_text)
        padded = want + (0,) * (3 - len(want))
        if not _one(op, have, want, padded):
            return False
    return True


def _one(op: str, have: tuple[int, ...], want: tuple[int, ...], padded: tuple[int, ...]) -> bool:
    if op == "~>":
        # ~> 5.1 allows 5.x >= 5.1; ~> 5.1.2 allows 5.1.x >= 5.1.2; ~> 5 allows >= 5.
        prefix = want[:-1] if len(want) > 1 else want
        return have >= padded and have[: len(prefix)] == prefix
    return {
        "=": have == padded,
        "!=": have != padded,
        ">=": have >= padded,
        "<=": have <= padded,
        ">": have > padded,
        "<": have < padded,
    }[op]
