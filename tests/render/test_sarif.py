from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from pydantic_sarif.model import StaticAnalysisResultsFormatSarifVersion210JsonSchema as Sarif

from iacforge.certificate import Certificate
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.render.sarif import render_sarif, sarif_log

#: What GitHub code scanning adds to SARIF (every result located, …), beside the full schema.
SUBSET = json.loads((Path(__file__).parent / "sarif_subset.schema.json").read_text())


def valid(log: dict) -> dict:
    """`log`, after checking it against SARIF 2.1.0 (pydantic-sarif's model of the schema)."""
    Sarif.model_validate(log)
    jsonschema.validate(log, SUBSET)
    return log


def sarif(*certs: Certificate) -> dict:
    return valid(json.loads(render_sarif(list(certs))))


def results(log: dict) -> list[dict]:
    return log["runs"][0]["results"]


def one(diag: Diagnostic, files: tuple[str, ...] = ("main.tf",)) -> dict:
    cert = Certificate("h", (StageResult("validate", "fail", (diag,)),), files=files)
    [result] = results(sarif(cert))
    return result


def test_log_header(validate_fail, intent_fail, security_fail, all_pass) -> None:
    log = sarif(validate_fail, intent_fail, security_fail, all_pass)
    assert log["version"] == "2.1.0" and "sarif" in log["$schema"]
    [run] = log["runs"]
    assert run["tool"]["driver"]["name"] == "iacforge"


def test_every_result_rule_is_declared_once(validate_fail, intent_fail, security_fail) -> None:
    log = sarif(validate_fail, intent_fail, security_fail)
    declared = [rule["id"] for rule in log["runs"][0]["tool"]["driver"]["rules"]]
    assert len(declared) == len(set(declared))
    assert {r["ruleId"] for r in results(log)} == set(declared)


def test_rule_ids_fall_back_to_the_stage(validate_fail) -> None:
    assert [r["ruleId"] for r in results(sarif(validate_fail))] == [
        "iacforge/validate",
        "iacforge/validate",
        "TFW1",
    ]


@pytest.mark.parametrize(
    ("severity", "level"), [("error", "error"), ("warning", "warning"), ("info", "note")]
)
def test_levels_follow_severity(severity: str, level: str) -> None:
    assert one(Diagnostic(severity, "x", file="main.tf", line=1))["level"] == level


def test_region_carries_known_line_and_column(validate_fail) -> None:
    first = results(sarif(validate_fail))[0]
    [location] = first["locations"]
    assert location["physicalLocation"] == {
        "artifactLocation": {"uri": "main.tf"},
        "region": {"startLine": 3, "startColumn": 5},
    }
    assert first["message"]["text"].startswith("Unsupported argument\nAn argument named")
    assert first["properties"]["address"] == "aws_s3_bucket.logs"


@pytest.mark.parametrize(
    ("line", "column", "region"),
    [
        (None, None, None),
        (0, None, None),
        (None, 4, None),
        (7, 0, {"startLine": 7}),
        (7, None, {"startLine": 7}),
    ],
)
def test_region_only_for_a_positive_line(line, column, region) -> None:
    physical = one(Diagnostic("error", "x", file="a.tf", line=line, column=column))["locations"][0]
    assert physical["physicalLocation"].get("region") == region


def test_fileless_diagnostic_is_anchored_at_the_first_file_without_region() -> None:
    result = one(Diagnostic("error", "x", line=4), files=("main.tf", "b.tf"))
    assert result["locations"] == [{"physicalLocation": {"artifactLocation": {"uri": "main.tf"}}}]


def test_no_file_anywhere_gives_a_locationless_result() -> None:
    assert "locations" not in one(Diagnostic("error", "No code in the reply"), files=())


def test_uri_is_relative_and_percent_encoded() -> None:
    location = one(Diagnostic("error", "x", file="mod dir\\main.tf", line=1))["locations"][0]
    assert location["physicalLocation"]["artifactLocation"]["uri"] == "mod%20dir/main.tf"


def test_end_positions_complete_the_region() -> None:
    diag = Diagnostic("error", "x", file="a.tf", line=3, column=5, end_line=3, end_column=12)
    region = one(diag)["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 3, "startColumn": 5, "endLine": 3, "endColumn": 12}
    backwards = Diagnostic("error", "x", file="a.tf", line=3, column=5, end_line=2, end_column=1)
    assert one(backwards)["locations"][0]["physicalLocation"]["region"] == {
        "startLine": 3, "startColumn": 5}


def test_rules_carry_a_full_description_and_help_where_the_tool_documents_them() -> None:
    certs = [Certificate("h", (StageResult("security", "fail", (
        Diagnostic("warning", "Ensure S3 logging", "https://docs.example/ckv_aws_18",
                   file="main.tf", line=1, rule_id="CKV_AWS_18"),)),
        StageResult("validate", "fail", (
            Diagnostic("error", "Unsupported argument", file="main.tf", line=2,
                       rule_id="terraform/validate"),)),
        StageResult("lint", "pass", (
            Diagnostic("warning", "x", file="main.tf", line=2,
                       rule_id="terraform_typed_variables"),
            Diagnostic("info", "y", file="main.tf", line=3)))), files=("main.tf",))]
    rules = {r["id"]: r for r in sarif(*certs)["runs"][0]["tool"]["driver"]["rules"]}
    assert all(r["fullDescription"]["text"] for r in rules.values())
    assert rules["CKV_AWS_18"]["helpUri"] == "https://docs.example/ckv_aws_18"
    assert rules["terraform/validate"]["helpUri"].endswith("/commands/validate")
    assert rules["terraform/validate"]["shortDescription"]["text"] != "Unsupported argument"
    assert rules["terraform_typed_variables"]["helpUri"].endswith("terraform_typed_variables.md")
    assert "helpUri" not in rules["iacforge/lint"]


def test_skipped_stages_give_no_results() -> None:
    stages = (StageResult("validate", "fail", (Diagnostic("error", "x", file="main.tf"),)),
              StageResult("plan", "skipped", (Diagnostic("info", "skipped: validate did not pass",
                                                         rule_id="iacforge/plan"),)))
    [result] = results(sarif(Certificate("h", stages, files=("main.tf",))))
    assert result["properties"]["stage"] == "validate"


def test_a_suppressed_finding_is_an_in_source_suppression_with_its_reason() -> None:
    diag = Diagnostic("info", "Ensure SQS encryption", file="main.tf", line=3,
                      rule_id="CKV_AWS_27", suppressed="not needed")
    result = one(diag)
    assert result["suppressions"] == [{"kind": "inSource", "justification": "not needed"}]


def test_files_on_disk_are_named_from_the_working_directory(tmp_path) -> None:
    """Two root modules' main.tf stay apart, each at its path in the repository."""
    for env in ("prod", "dev"):
        (tmp_path / "envs" / env).mkdir(parents=True)
        (tmp_path / "envs" / env / "main.tf").write_text("# x\n")
    certs = [Certificate("h", (StageResult("validate", "fail", (
        Diagnostic("error", "x", file="main.tf", line=1),)),),
        source=str(tmp_path / "envs" / env), files=("main.tf",)) for env in ("prod", "dev")]
    certs.append(Certificate("h", (StageResult("validate", "fail", (
        Diagnostic("error", "no file"),)),), source=str(tmp_path / "envs/dev/main.tf"),
        files=("main.tf",)))
    log = valid(sarif_log(certs, cwd=tmp_path))
    artifacts = [r["locations"][0]["physicalLocation"]["artifactLocation"]
                 for r in results(log)]
    assert artifacts == [{"uri": f"envs/{env}/main.tf", "uriBaseId": "%SRCROOT%"}
                         for env in ("prod", "dev", "dev")]
    assert log["runs"][0]["originalUriBaseIds"] == {"%SRCROOT%": {"uri": tmp_path.as_uri() + "/"}}
    outside = valid(sarif_log(certs[:1], cwd=tmp_path / "envs/dev"))
    assert results(outside)[0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": (tmp_path / "envs/prod/main.tf").as_uri()}


def test_a_silent_failing_stage_still_reports() -> None:
    stages = (
        StageResult("parse", "pass"),
        StageResult("plan", "error"),
        StageResult("lint", "skipped"),
    )
    [result] = results(sarif(Certificate("h", stages, files=("main.tf",))))
    assert result["ruleId"] == "iacforge/plan" and result["level"] == "error"
    assert "error" in result["message"]["text"]


def test_passing_certificate_without_diagnostics_has_no_results() -> None:
    assert results(sarif(Certificate("h", (StageResult("parse", "pass"),)))) == []


def test_empty_summary_still_has_message_text() -> None:
    assert one(Diagnostic("error", "", file="main.tf", rule_id="R1"))["message"]["text"] == "R1"
