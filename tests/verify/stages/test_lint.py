"""The lint stage: built-in rules, tflint's JSON mapped to diagnostics, and the non-verdicts."""

import os
import shutil
from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.hcl.parse import parse_files
from iacforge.verify.context import StageContext
from iacforge.verify.stages import lint

FIXTURES = Path(__file__).parents[2] / "fixtures"


def files_of(path: Path) -> dict[str, str]:
    return {p.name: p.read_text() for p in sorted(path.iterdir())}


def context(files: dict[str, str]) -> StageContext:
    return StageContext(Candidate(files), Settings(), model=parse_files(files).model)


@pytest.fixture
def no_tflint(monkeypatch, tmp_path):
    """A PATH without tflint, so the stage uses the built-in rules."""
    monkeypatch.setenv("PATH", str(tmp_path))


def test_builtin_rules_fail_a_config_with_issues(no_tflint):
    result = lint.run(context(files_of(FIXTURES / "lint" / "terraform_typed_variables")))
    assert result.stage == "lint"
    assert result.status == "fail"
    assert result.metrics == {"issues": len(result.diagnostics), "linter": "builtin"}
    untyped = {d.address for d in result.diagnostics if d.rule_id == "terraform_typed_variables"}
    assert untyped == {"var.fail_untyped", "var.fail_default_only"}
    assert {d.severity for d in result.diagnostics} == {"warning"}


def test_builtin_rules_pass_a_clean_config(no_tflint):
    result = lint.run(context(files_of(FIXTURES / "security" / "pass_all")))
    assert result.status == "pass"
    assert result.metrics == {"issues": 0, "linter": "builtin"}


def test_without_a_parsed_model_lint_is_skipped():
    ctx = StageContext(Candidate({"main.tf": "resource {"}), Settings())
    assert lint.run(ctx).status == "skipped"


def test_tflint_json_becomes_diagnostics_on_the_candidates_files_only():
    files = files_of(FIXTURES / "lint" / "terraform_unused_declarations")
    model = parse_files(files).model
    link = "https://github.com/terraform-linters/tflint-ruleset-terraform/blob/v0.10.0/docs/rules/"
    doc = {
        "issues": [
            {
                "rule": {"name": "terraform_unused_declarations", "severity": "warning",
                         "link": link + "terraform_unused_declarations.md"},
                "message": 'local.fail_unused is declared but not used',
                "range": {"filename": "main.tf", "start": {"line": 40, "column": 3},
                          "end": {"line": 40, "column": 41}},
                "callers": [],
            },
            {
                "rule": {"name": "terraform_required_providers", "severity": "warning",
                         "link": link + "terraform_required_providers.md"},
                "message": 'Missing version constraint for provider "aws" in `required_providers`',
                "range": {"filename": "iacforge_override.tf", "start": {"line": 1, "column": 1},
                          "end": {"line": 1, "column": 15}},
                "callers": [],
            },
        ],
        "errors": [],
    }
    [diagnostic] = lint.from_tflint(doc, model)
    assert diagnostic.rule_id == "terraform_unused_declarations"
    assert diagnostic.summary == "local.fail_unused is declared but not used"
    assert diagnostic.detail.endswith("terraform_unused_declarations.md")
    assert (diagnostic.file, diagnostic.line, diagnostic.column) == ("main.tf", 40, 3)
    assert diagnostic.address == "local.fail_unused"


def test_a_tflint_that_crashes_is_an_error_not_a_verdict(monkeypatch, tmp_path):
    # stand in a binary that exits 1 with no output, as tflint does on a broken config
    (tmp_path / "tflint").symlink_to(shutil.which("false"))
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    result = lint.run(context(files_of(FIXTURES / "security" / "pass_all")))
    assert result.status == "error"
    assert result.diagnostics[0].summary == "tflint could not lint the configuration"


@pytest.mark.skipif(shutil.which("tflint") is None, reason="tflint is not installed")
def test_real_tflint_agrees_with_the_builtin_rules_on_the_fixtures(tmp_path):
    for rule in ("terraform_typed_variables", "terraform_documented_outputs"):
        files = files_of(FIXTURES / "lint" / rule)
        with_tflint = lint.run(context(files))
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("PATH", str(tmp_path))
            builtin = lint.run(context(files))
        assert with_tflint.metrics["linter"] == "tflint"
        assert findings(with_tflint, rule) == findings(builtin, rule)


def findings(result, rule: str) -> set[tuple[str | None, str | None]]:
    return {(d.address, d.file) for d in result.diagnostics if d.rule_id == rule}
