"""The verifier stages, in the order they run; each module has ID, SENTENCE and run(ctx)."""

from __future__ import annotations

from types import ModuleType

from iacforge.verify.stages import extract, intent, lint, parse, plan, security, validate

_ORDER: tuple[ModuleType, ...] = (extract, parse, validate, plan, intent, security, lint)


def _registry(modules: tuple[ModuleType, ...]) -> dict[str, ModuleType]:
    registry: dict[str, ModuleType] = {}
    for module in modules:
        if module.ID in registry:
            raise ValueError(f"duplicate stage id {module.ID!r}")
        registry[module.ID] = module
    return registry


STAGES: dict[str, ModuleType] = _registry(_ORDER)
DEFAULT_STAGES: tuple[str, ...] = tuple(STAGES)
