"""Lazy public names for a package (PEP 562): each loads from its home module on first use.

>>> getattr_, dir_ = lazy("demo", {"sqrt": "math"})
>>> getattr_("sqrt")(4.0)
2.0
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy(package: str, home: Mapping[str, str]
         ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's `__getattr__` and `__dir__` serving `home` (public name → defining module)."""

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home[name]), name)
        vars(importlib.import_module(package))[name] = value  # the next lookup is direct
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(importlib.import_module(package)), *home})

    return __getattr__, __dir__
