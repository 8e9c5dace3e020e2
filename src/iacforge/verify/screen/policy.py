"""ScreenPolicy: what the screen stage lets through, read from a documented JSON file.

The packaged policy is `policy.json` beside this module. `Settings.screen_policy`
(`IACFORGE_SCREEN_POLICY`) names a file to use instead, and `VerifierOptions.screen_policy` (a
dict shaped like the file, or the path of one) overrides it for one run: each key given in a
section replaces that key (`{"limits": {"max_count": 50}}`, `{"providers": {"deny": {}}}`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iacforge.errors import SetupError

PACKAGED = Path(__file__).with_name("policy.json")
_LIMITS = ("max_files", "max_file_bytes", "max_total_bytes", "max_count", "max_range",
           "max_string_bytes", "max_nesting", "max_format_width", "max_pow_exponent")
_KEYS = {"version", "about", "providers", "types", "arguments", "provisioners", "module_sources",
         "path_functions", "path_calls", "path_arguments", "template_functions", "limits"}


class PolicyError(SetupError):
    """A screen policy file or override that cannot be used, with what to change."""


@dataclass(frozen=True)
class ScreenPolicy:
    """The screen's allow- and deny-lists and its resource limits.

    >>> policy = ScreenPolicy.load(overrides={"limits": {"max_count": 50}})
    >>> policy.limits["max_count"], "aws" in policy.allowed_providers
    (50, True)
    """

    allowed_providers: frozenset[str]
    denied_providers: Mapping[str, str]
    #: "pass" (left to the validate stage's offline check) or "unsafe".
    other_providers: str
    denied_types: Mapping[str, str]
    #: `type.argument` (present) or `type.argument=value` (that literal) → why it is refused.
    denied_arguments: Mapping[str, str]
    allowed_provisioners: frozenset[str]
    allowed_module_sources: frozenset[str]
    #: Function name → the indexes of its arguments that are host paths.
    path_functions: Mapping[str, tuple[int, ...]]
    #: Functions a host path may be built with (any other call in one is refused).
    path_calls: frozenset[str]
    #: Function name → the index of its argument holding a template it renders
    #: (`templatestring`); the template's own calls are screened too.
    template_functions: Mapping[str, int]
    #: Resource type → its arguments that name host files.
    path_arguments: Mapping[str, tuple[str, ...]]
    limits: Mapping[str, int]

    @classmethod
    def load(cls, path: str | Path | None = None,
             overrides: Mapping[str, Any] | str | Path | None = None) -> ScreenPolicy:
        """The policy in `path` (default: the packaged one) with `overrides` applied."""
        data = _read(str(path or PACKAGED))
        if isinstance(overrides, str | Path):
            data = _read(str(overrides))
        elif overrides:
            data = _merged(data, overrides)
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ScreenPolicy:
        unknown = set(data) - _KEYS
        if unknown:
            raise PolicyError(f"screen policy: unknown key(s) {', '.join(sorted(unknown))}; "
                              f"expected some of {', '.join(sorted(_KEYS))}")
        try:
            providers = data["providers"]
            limits = {name: int(data["limits"][name]) for name in _LIMITS}
            policy = cls(
                allowed_providers=frozenset(providers["allow"]),
                denied_providers=dict(providers["deny"]),
                other_providers=providers.get("others", "pass"),
                denied_types=dict(data["types"]["deny"]),
                denied_arguments=dict(data.get("arguments", {}).get("deny", {})),
                allowed_provisioners=frozenset(data["provisioners"]["allow"]),
                allowed_module_sources=frozenset(data["module_sources"]["allow"]),
                path_functions={k: tuple(int(i) for i in v)
                                for k, v in data["path_functions"].items()},
                path_calls=frozenset(data["path_calls"]["allow"]),
                path_arguments={k: tuple(v) for k, v in data["path_arguments"].items()},
                template_functions={k: int(v) for k, v in
                                    data.get("template_functions", {}).items()},
                limits=limits,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PolicyError(f"screen policy is missing or mistypes {exc}; compare it with "
                              f"{PACKAGED}") from None
        if policy.other_providers not in ("pass", "unsafe"):
            raise PolicyError("screen policy: providers.others must be 'pass' or 'unsafe'")
        return policy


@functools.cache
def _read(path: str) -> dict[str, Any]:
    try:
        data = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        raise PolicyError(f"cannot read the screen policy {path}: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"screen policy {path}: the top level must be a JSON object")
    return data


def _merged(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with each section's keys replaced by those `overrides` gives for it."""
    out = dict(base)
    for key, value in overrides.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = {**out[key], **value}
        else:
            out[key] = value
    return out
