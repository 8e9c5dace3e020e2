"""The formal gates (TerraFormer's FV-i, FV-ii, FV-iii) and the verdict policy, defined once.

FV-i (compiles) needs extract, parse, screen and validate to pass; FV-ii (deploys) adds plan;
FV-iii (correct) adds the intent policy. The verdict of a certificate (its `status` and
`passed`, the CLI's exit code, the repair loop's stop) is decided by the correctness stages:
these and `apply` when it was asked for. The advisory stages, security and lint, are run,
reported and scored, and block the verdict only when named in `fail_on`
(`--fail-on security,lint`, `IACFORGE_FAIL_ON`), or when they found the candidate `unsafe`
(it exceeded a bound while checkov or lint read it: hostile, whichever stage noticed).

>>> gates("security", ()), gates("security", ("security",)), gates("plan", ())
(False, True, True)
>>> gates("security", (), "unsafe")
True
>>> parse_fail_on("lint, security")
('security', 'lint')
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, get_args

from iacforge.errors import ConfigError

#: FV-i, compilability: the stages that must pass, in order.
FV1: tuple[str, ...] = ("extract", "parse", "screen", "validate")
#: FV-ii, deployability.
FV2: tuple[str, ...] = (*FV1, "plan")
#: FV-iii, correctness against the task's intent policy.
FV3: tuple[str, ...] = (*FV2, "intent")
#: The FV gates by their short names, for logs and metrics.
GATES: dict[str, tuple[str, ...]] = {"fv1": FV1, "fv2": FV2, "fv3": FV3}
#: The stages to ask the verifier for to judge every gate (it adds their prerequisites).
FORMAL_STAGES: tuple[str, ...] = tuple(stages[-1] for stages in GATES.values())

Advisory = Literal["security", "lint"]
#: Stages that are run and scored but decide the verdict only when named in `fail_on`.
ADVISORY: tuple[str, ...] = get_args(Advisory)


def gates(stage: str, fail_on: Iterable[str], status: str | None = None) -> bool:
    """True when `stage`'s status counts toward the verdict under `fail_on`."""
    return stage not in ADVISORY or stage in fail_on or status == "unsafe"


def parse_fail_on(value: str | Iterable[str] | None) -> tuple[str, ...]:
    """`fail_on` from a comma-separated string or names, in stage order; ConfigError names
    the valid choices."""
    if value is None:
        return ()
    names = value.split(",") if isinstance(value, str) else list(value)
    wanted = {str(n).strip() for n in names if str(n).strip()}
    unknown = sorted(wanted - set(ADVISORY))
    if unknown:
        raise ConfigError(f"fail_on: {', '.join(map(repr, unknown))} is not an advisory stage; "
                          f"choose from {', '.join(ADVISORY)} (every other stage always gates)")
    return tuple(n for n in ADVISORY if n in wanted)
