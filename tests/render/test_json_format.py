from __future__ import annotations

import json
from dataclasses import replace
from importlib import metadata

from iacforge.certificate import Certificate
from iacforge.render.json_format import render_json


def test_one_certificate_gets_the_same_envelope_as_many(intent_fail) -> None:
    data = json.loads(render_json([intent_fail]))
    assert data["iacforge_version"] == metadata.version("iacforge")
    assert data["certificates"] == [intent_fail.to_dict()]
    assert Certificate.from_dict(data["certificates"][0]) == intent_fail


def test_each_certificate_says_whether_it_came_from_the_cache(intent_fail) -> None:
    hit = replace(intent_fail, cached=True)
    data = json.loads(render_json([intent_fail, hit]))
    assert [c["cached"] for c in data["certificates"]] == [False, True]
    assert Certificate.from_dict(data["certificates"][1]).cached


def test_a_certificate_written_before_the_cached_flag_still_reads(intent_fail) -> None:
    old = intent_fail.to_dict()
    del old["cached"]
    old["schema_version"] = 2
    assert Certificate.from_dict(old) == intent_fail
    assert not Certificate.from_dict(old).cached


def test_several_certificates_are_wrapped_with_the_version(validate_fail, all_pass) -> None:
    data = json.loads(render_json([validate_fail, all_pass]))
    assert data["iacforge_version"] == metadata.version("iacforge")
    assert [c["status"] for c in data["certificates"]] == ["fail", "pass"]
    assert [Certificate.from_dict(c) for c in data["certificates"]] == [validate_fail, all_pass]


def test_no_certificates_is_an_empty_wrapper() -> None:
    assert json.loads(render_json([]))["certificates"] == []


def test_plan_is_left_out(all_pass) -> None:
    cert = Certificate(all_pass.content_hash, all_pass.stages, plan={"planned_values": {}})
    assert "plan" not in json.loads(render_json([cert]))["certificates"][0]


def test_control_characters_survive_exactly(escape_codes) -> None:
    # JSON escapes them itself, so the machine formats keep the candidate's text as it was
    text = render_json([escape_codes])
    assert "\x1b" not in text
    assert json.loads(text)["certificates"][0]["stages"][2]["diagnostics"][0]["summary"] == (
        escape_codes.stages[2].diagnostics[0].summary)


def test_a_certificate_written_before_end_positions_and_suppressions_still_reads() -> None:
    old = {"content_hash": "h", "stages": [{"stage": "validate", "status": "fail", "diagnostics": [
        {"severity": "error", "summary": "x", "detail": "", "file": "main.tf", "line": 3,
         "column": 5, "address": None, "rule_id": "terraform/validate"}]}]}
    [diag] = Certificate.from_dict(old).stages[0].diagnostics
    assert (diag.line, diag.end_line, diag.end_column, diag.suppressed) == (3, None, None, None)
