"""Shared fixtures: the embedded model's tokenizer, wrapped for llguidance, and the schema."""

from __future__ import annotations

import pytest

from iacforge.constrain.processor import Constraint
from iacforge.data.schema import provider_schema


@pytest.fixture(scope="session")
def tokenizer():
    from transformers import AutoTokenizer

    from iacforge.llm.embedded import embedded_model

    return AutoTokenizer.from_pretrained(str(embedded_model()))


@pytest.fixture(scope="session")
def constraint(tokenizer) -> Constraint:
    return Constraint(tokenizer)


@pytest.fixture(scope="session")
def schema() -> dict:
    return provider_schema()
