"""Imported first by `iacforge`: keep lark's grammar cache out of the shared temp directory.

checkov's HCL parser (`hcl2.parser`) builds its grammar with `Lark(..., cache=True)`, which
writes a pickle to `tempfile.gettempdir()` and loads it back in every later process without
asking who wrote it: on a shared machine, anyone could plant one there and run code in ours.
We import that parser once with the temp directory pointed at a private, user-owned
directory (`<cache_dir>/lark`, mode 0700), so the cache is written and read only there.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from iacforge.config import Settings
from iacforge.verify.sandbox import private_dir


def _import_parser_privately() -> None:
    saved = tempfile.tempdir
    tempfile.tempdir = str(private_dir(Path(Settings.from_env().cache_dir) / "lark"))
    try:
        import hcl2.parser  # noqa: F401 -- builds (or loads) the cached grammar now
    finally:
        tempfile.tempdir = saved


_import_parser_privately()
