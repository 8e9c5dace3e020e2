"""The verifier stages, in the order they run; each module has ID, SENTENCE and run(ctx)."""

from __future__ import annotations

from types import ModuleType

from iacforge.verify.stages import (
    apply,
    extract,
    intent,
    lint,
    parse,
    plan,
    screen,
    security,
    validate,
)

_ORDER: tuple[ModuleType, ...] = (extract, parse, screen, validate, plan, intent, security, lint,
                                  apply)
#: Stages run only when asked for: apply deploys to the emulator and costs tens of seconds.
_OPTIONAL = frozenset({apply.ID})


def _registry(modules: tuple[ModuleType, ...]) -> dict[str, ModuleType]:
    registry: dict[str, ModuleType] = {}
    for module in modules:
        if module.ID in registry:
            raise ValueError(f"duplicate stage id {module.ID!r}")
        registry[module.ID] = module
    return registry


STAGES: dict[str, ModuleType] = _registry(_ORDER)
DEFAULT_STAGES: tuple[str, ...] = tuple(n for n in STAGES if n not in _OPTIONAL)
