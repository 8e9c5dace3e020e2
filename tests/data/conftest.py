"""Shared fixtures: the provider schema (cached on disk after the first terraform run)."""

from __future__ import annotations

from typing import Any

import pytest

from iacforge.data.schema import provider_schema


@pytest.fixture(scope="session")
def schema() -> dict[str, Any]:
    return provider_schema()
