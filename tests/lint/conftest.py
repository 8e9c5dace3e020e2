from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from iacforge.hcl.model import TerraformModel
from iacforge.hcl.parse import parse_files

FIXTURES = Path(__file__).parents[1] / "fixtures" / "lint"


def fixture_files(name: str) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted((FIXTURES / name).iterdir())}


@pytest.fixture
def load_model() -> Callable[[str], TerraformModel]:
    """Parse the fixture directory `tests/fixtures/lint/<name>` into a model."""

    def load(name: str) -> TerraformModel:
        outcome = parse_files(fixture_files(name))
        assert outcome.model is not None, outcome.diagnostics
        return outcome.model

    return load
