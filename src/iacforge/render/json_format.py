"""JSON output: one envelope, `{"iacforge_version", "certificates": [...]}`, for any number."""

from __future__ import annotations

import json
from typing import Any

from iacforge.certificate import Certificate
from iacforge.render.version import iacforge_version


def render_json(certs: list[Certificate]) -> str:
    """Certificates as indented JSON, in one shape whatever their number.

    `{"iacforge_version": "...", "certificates": [cert.to_dict(), ...]}`: a script reads
    `doc["certificates"]` for one input as for a directory of fifty. Each certificate carries
    `schema_version` and `cached` (true: the verdict came from the cache, with the first run's
    stage times). The plan JSON is left out; it can be megabytes.
    """
    data: dict[str, Any] = {
        "iacforge_version": iacforge_version(),
        "certificates": [cert.to_dict() for cert in certs],
    }
    return json.dumps(data, indent=2)

