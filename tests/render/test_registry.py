from __future__ import annotations

import pytest

from iacforge import render as render_pkg
from iacforge.render import FORMATTERS, render


def test_formatters_are_the_three_named_formats() -> None:
    assert set(FORMATTERS) == {"table", "json", "sarif"}


def test_all_is_sorted() -> None:
    assert render_pkg.__all__ == sorted(render_pkg.__all__)


@pytest.mark.parametrize("fmt", sorted(FORMATTERS))
def test_render_dispatches_to_the_named_formatter(fmt: str, validate_fail) -> None:
    assert render([validate_fail], fmt) == FORMATTERS[fmt]([validate_fail])


def test_unknown_format_names_the_known_ones(validate_fail) -> None:
    with pytest.raises(ValueError, match="unknown output format 'xml'") as info:
        render([validate_fail], "xml")
    assert all(name in str(info.value) for name in FORMATTERS)
