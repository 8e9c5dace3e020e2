"""JSON output: certificates as the documented `Certificate.to_dict()` shape."""

from __future__ import annotations

import json
from typing import Any

from iacforge.certificate import Certificate
from iacforge.render.version import iacforge_version


def render_json(certs: list[Certificate]) -> str:
    """Certificates as indented JSON.

    Exactly one certificate prints as its own dict (`Certificate.to_dict()`, which carries
    `schema_version`), so `Certificate.from_dict(json.loads(out))` reads it back. Any other
    number prints as `{"iacforge_version": "...", "certificates": [cert dict, ...]}`.
    The plan JSON is left out in both shapes; it can be megabytes.
    """
    data: dict[str, Any]
    if len(certs) == 1:
        data = certs[0].to_dict()
    else:
        data = {
            "iacforge_version": iacforge_version(),
            "certificates": [cert.to_dict() for cert in certs],
        }
    return json.dumps(data, indent=2)
