"""Lazy public names for a package (PEP 562): each loads from its home module on first use.

>>> namespace = {"__name__": "demo"}
>>> getattr_, dir_ = lazy(namespace, {"sqrt": "math"})
>>> getattr_("sqrt")(4.0), "sqrt" in namespace, dir_()
(2.0, True, ['__name__', 'sqrt'])
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy(namespace: dict[str, Any], home: Mapping[str, str]
         ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A module's `__getattr__` and `__dir__` (call with its `globals()`) serving `home`
    (public name → defining module); a loaded name is kept in `namespace`."""

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {namespace['__name__']!r} has no attribute {name!r}")
        value = namespace[name] = getattr(importlib.import_module(home[name]), name)
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *home})

    return __getattr__, __dir__
