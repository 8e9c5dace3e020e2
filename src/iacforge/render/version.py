"""The iacforge version that output formats stamp into what they write."""

from __future__ import annotations

import functools
from importlib import metadata


@functools.cache
def iacforge_version() -> str:
    """`iacforge.__version__` when the package defines it, else the installed distribution's."""
    import iacforge

    version = getattr(iacforge, "__version__", None)
    if isinstance(version, str):
        return version
    try:
        return metadata.version("iacforge")
    except metadata.PackageNotFoundError:
        return "0+unknown"
