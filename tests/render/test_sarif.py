from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from iacforge.certificate import Certificate
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.render.sarif import render_sarif

SUBSET = json.loads((Path(__file__).parent / "sarif_subset.schema.json").read_text())


def sarif(*certs: Certificate) -> dict:
    log = json.loads(render_sarif(list(certs)))
    jsonschema.validate(log, SUBSET)
    return log


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
