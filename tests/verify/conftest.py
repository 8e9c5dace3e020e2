"""Certificates for the fixture directories, each computed once per test session.

terraform validate and plan cost seconds per candidate, and several test modules judge the
same fixture (the pipeline tests and the stage tests), so they share one verification of each
(fixture directory, stages, intent policy).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.hcl.extract import from_path
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier

FIXTURES = Path(__file__).parents[1] / "fixtures"
Certify = Callable[..., Certificate]


@pytest.fixture(scope="session")
def certify() -> Certify:
    """`certify("stages/x", ("plan",), "tasks/t/intent.rego")`: the certificate, cached."""
    cache: dict[tuple[str, tuple[str, ...] | None, str | None], Certificate] = {}
    settings = Settings.from_env()

    def run(fixture: str, stages: tuple[str, ...] | None = None,
            intent: str | None = None) -> Certificate:
        key = (fixture, stages, intent)
        if key not in cache:
            policy = IntentPolicy.from_file(FIXTURES / intent) if intent else None
            verifier = Verifier(settings, stages)
            cache[key] = verifier.verify(from_path(FIXTURES / fixture), policy)
        return cache[key]

    return run
