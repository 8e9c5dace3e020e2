"""The docstring examples of the data and eval modules run and say what they show."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ("iacforge.data.task", "iacforge.eval.harness",
           "iacforge.eval.irt", "iacforge.eval.metrics", "iacforge.eval.rundir")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
