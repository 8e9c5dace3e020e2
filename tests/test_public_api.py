"""The public namespace: a sorted `__all__`, every name importable, nothing public left out."""

import importlib
import types

import iacforge


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
