from types import SimpleNamespace

import pytest

from iacforge import lint
from iacforge.lint import RULES, _registry


def test_registry_lists_the_core_rules_under_tflints_names():
    assert set(RULES) == {
        "terraform_deprecated_interpolation",
        "terraform_documented_outputs",
        "terraform_documented_variables",
        "terraform_required_providers",
        "terraform_typed_variables",
        "terraform_unused_declarations",
    }
    for rule_id, module in RULES.items():
        assert rule_id == module.ID
        assert module.SENTENCE.startswith("Ensure ")


def test_registry_rejects_a_duplicate_id():
    rule = SimpleNamespace(ID="terraform_typed_variables")
    with pytest.raises(ValueError, match="duplicate lint rule id 'terraform_typed_variables'"):
        _registry((rule, rule))  # type: ignore[arg-type]


def test_lint_runs_every_rule_and_orders_by_file_then_line(load_model):
    found = lint.lint(load_model("terraform_typed_variables"))
    assert {d.rule_id for d in found} == {
        "terraform_typed_variables",
        "terraform_documented_variables",
        "terraform_unused_declarations",
    }
    assert [d.line for d in found] == sorted(d.line for d in found)


def test_a_clean_configuration_has_no_findings():
    from pathlib import Path

    from iacforge.hcl.parse import parse_files

    security = Path(__file__).parents[1] / "fixtures" / "security" / "pass_all"
    model = parse_files({p.name: p.read_text() for p in security.iterdir()}).model
    assert lint.lint(model) == []
