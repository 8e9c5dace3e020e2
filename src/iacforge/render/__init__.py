"""Output formats for certificates: a name → formatter registry and `render`.

>>> import json
>>> from iacforge.certificate import Certificate
>>> from iacforge.diagnostics import StageResult
>>> cert = Certificate("ab12", (StageResult("parse", "pass"),))
>>> json.loads(render([cert], "json"))["certificates"][0]["status"]
'pass'
"""

from __future__ import annotations

from collections.abc import Callable

from iacforge.certificate import Certificate
from iacforge.render.feedback import render_feedback
from iacforge.render.json_format import render_json
from iacforge.render.sarif import render_sarif
from iacforge.render.table import render_table

__all__ = ["FORMATTERS", "render", "render_feedback", "render_json", "render_sarif", "render_table"]

FORMATTERS: dict[str, Callable[[list[Certificate]], str]] = {
    "json": render_json,
    "sarif": render_sarif,
    "table": render_table,
}


def render(certs: list[Certificate], fmt: str) -> str:
    """`certs` in the output format named `fmt` (a key of `FORMATTERS`)."""
    formatter = FORMATTERS.get(fmt)
    if formatter is None:
        known = ", ".join(sorted(FORMATTERS))
        raise ValueError(f"unknown output format {fmt!r}; choose one of: {known}")
    return formatter(certs)
