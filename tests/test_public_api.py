"""The public namespace: a sorted `__all__`, every name importable, nothing public left out."""

import importlib
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import iacforge

SRC = str(Path(__file__).parents[1] / "src")


def test_all_is_sorted_and_has_no_duplicates():
    assert iacforge.__all__ == sorted(set(iacforge.__all__))


def test_every_name_in_all_imports():
    module = importlib.import_module("iacforge")
    for name in iacforge.__all__:
        assert getattr(module, name) is not None, name
    namespace: dict[str, object] = {}
    exec(f"from iacforge import {', '.join(iacforge.__all__)}", namespace)
    assert set(iacforge.__all__) <= namespace.keys()


def test_every_public_non_module_attribute_is_in_all():
    public = {
        name for name, value in vars(iacforge).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public <= set(iacforge.__all__)


def test_version_is_a_string():
    assert isinstance(iacforge.__version__, str) and iacforge.__version__[0].isdigit()


def test_verify_all_is_sorted_and_every_name_resolves():
    import iacforge.verify

    assert iacforge.verify.__all__ == sorted(set(iacforge.verify.__all__))
    for name in iacforge.verify.__all__:
        assert getattr(iacforge.verify, name) is not None, name
    with pytest.raises(AttributeError):
        iacforge.verify.no_such_name  # noqa: B018


def test_a_light_submodule_does_not_load_the_verifier():
    code = ("import sys, iacforge.verify.bounded\n"
            "heavy = [m for m in ('iacforge.verify.pipeline', 'iacforge.verify.terraform', "
            "'iacforge.verify.screen', 'checkov') if m in sys.modules]\n"
            "assert not heavy, heavy\n")
    subprocess.run([sys.executable, "-c", code], check=True, env={**os.environ, "PYTHONPATH": SRC})
