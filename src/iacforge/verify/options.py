"""VerifierOptions: how a Verifier judges, typed and checked when made.

A value outside a field's choices is a ConfigError naming the choices (CLI exit 2), not a stage
`error` on every candidate.

>>> VerifierOptions(intent_rule="strict", fail_on="security").fail_on
('security',)
>>> VerifierOptions(intent_rule="strcit")
Traceback (most recent call last):
  ...
iacforge.errors.ConfigError: intent_rule must be one of iac_eval, strict; got 'strcit'
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, get_args

from iacforge.errors import ConfigError
from iacforge.formal import Advisory, parse_fail_on

IntentRule = Literal["iac_eval", "strict"]
RegoEngine = Literal["auto", "regorus", "opa"]
INTENT_RULES: tuple[str, ...] = get_args(IntentRule)
REGO_ENGINES: tuple[str, ...] = get_args(RegoEngine)


@dataclass(frozen=True)
class VerifierOptions:
    """The options of the stages and of the verdict."""

    #: Which judgement sets the intent stage's status: IaC-Eval's rule or the policy's top rule.
    intent_rule: IntentRule = "iac_eval"
    #: The Rego engine; `opa` only when it is on PATH.
    rego_engine: RegoEngine = "auto"
    #: checkov check ids the security stage does not run.
    skip_checks: tuple[str, ...] = ()
    #: Obey `#checkov:skip=` comments (off, so a candidate cannot silence a check itself).
    honour_skip_comments: bool = False
    #: Screen policy overrides for this verifier: a dict shaped like the policy file, or the
    #: path of one (see verify/screen/policy.py).
    screen_policy: Mapping[str, Any] | str | Path | None = None
    #: Advisory stages whose failure fails the verdict too; None takes `Settings.fail_on`.
    fail_on: tuple[Advisory, ...] | None = None

    def __post_init__(self) -> None:
        _choose("intent_rule", self.intent_rule, INTENT_RULES)
        _choose("rego_engine", self.rego_engine, REGO_ENGINES)
        if isinstance(self.skip_checks, str):
            raise ConfigError(f"skip_checks must be a list of check ids, not the string "
                              f"{self.skip_checks!r}")
        object.__setattr__(self, "skip_checks", tuple(self.skip_checks))
        if self.fail_on is not None:
            object.__setattr__(self, "fail_on", parse_fail_on(self.fail_on))

    def key(self) -> str:
        """Every option as canonical JSON: part of a verdict's cache key."""
        return json.dumps(asdict(self), sort_keys=True, default=str)


def _choose(name: str, value: object, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}; got {value!r}")
