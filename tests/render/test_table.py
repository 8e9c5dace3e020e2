from __future__ import annotations

import re
from dataclasses import replace

import pytest

from iacforge.certificate import Certificate
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.render.table import render_table, summary

ANSI = re.compile(r"\x1b\[")


def test_plain_table_has_every_stage_and_status_and_no_escapes(validate_fail) -> None:
    text = render_table([validate_fail], color=False)
    assert not ANSI.search(text)
    stage_rows = [line for line in text.splitlines() if line.startswith("│")]
    rows = {line.split("│")[1].strip(): line for line in stage_rows}
    assert list(rows) == ["extract", "parse", "validate", "plan"]
    assert "fail" in rows["validate"] and "1.25" in rows["validate"]
    assert "2 errors, 1 warning" in rows["validate"]
    assert "skipped" in rows["plan"]


def test_title_names_source_hash_prefix_and_overall_status(validate_fail) -> None:
    title = render_table([validate_fail], color=False).splitlines()[0]
    assert title.split() == ["task-7/sample-2", validate_fail.content_hash[:12], "fail"]


def test_diagnostics_are_listed_with_where_rule_and_first_detail_line(validate_fail) -> None:
    text = render_table([validate_fail], color=False, width=200)
    line = next(ln for ln in text.splitlines() if "Unsupported argument" in ln)
    assert "error" in line and "main.tf:3:5" in line
    assert 'An argument named "acl_mode" is not expected here.' in line
    assert "Did you mean" not in text
    warning = next(ln for ln in text.splitlines() if "Deprecated attribute" in ln)
    assert "warning" in warning and "TFW1" in warning and "main.tf:9" in warning


def test_colour_marks_statuses(validate_fail) -> None:
    text = render_table([validate_fail], color=True)
    assert "\x1b[32mpass" in text  # green
    assert "\x1b[31mfail" in text  # red
    assert "\x1b[2mskipped" in text  # dim
    assert "\x1b[33mwarning" in text  # yellow severity


def test_each_certificate_gets_its_own_table(validate_fail, all_pass) -> None:
    text = render_table([validate_fail, all_pass], color=False)
    assert "task-7/sample-2" in text and "task-1" in text


def test_summary_reads_counts_and_metrics(intent_fail) -> None:
    assert summary(intent_fail.stage("intent")) == "1 error, 3/4 intent rules true"
    assert summary(intent_fail.stage("security")) == "1 warning, compliance 0.83"
    assert summary(StageResult("plan", "pass", metrics={"resources": 2, "raw": {"a": 1}})) == (
        "resources 2"
    )
    assert summary(StageResult("parse", "pass")) == ""


def test_control_characters_and_markup_from_a_candidate_are_shown_not_obeyed(escape_codes):
    # the old table passed ESC, BEL, CR and U+202E to the terminal and died of the `[/]`
    coloured = render_table([escape_codes], color=True)
    assert not set(coloured) & {"\x07", "\r", "\u202e"}
    assert not re.search(r"\x1b(?!\[[0-9;]*m)", coloured)  # only our own colour codes
    text = render_table([escape_codes], color=False, width=400)  # wide: no cell wraps
    assert not set(text) & {"\x1b", "\x07", "\r", "\u202e"}
    shown = r"\x1b[2J\x1b]0;owned\x07\x1b[31m\u202e\x0d[/]"
    assert f"task{shown}" in "".join(line.rstrip() for line in text.splitlines()[:2])
    assert f"main{shown}.tf:1" in text and f"rule{shown}" in text
    assert f"Invalid resource name {shown}: detail " in text  # the detail's first line


def _advised(fail_on: tuple[str, ...] = ()) -> Certificate:
    stages = (StageResult("parse", "pass"), StageResult("validate", "pass"),
              StageResult("security", "fail", (Diagnostic("error", "bucket not encrypted",
                                                           rule_id="CKV_AWS_19"),)),
              StageResult("lint", "pass"))
    return Certificate("ab" * 32, stages, source="advised", fail_on=fail_on)


def test_a_failing_stage_that_does_not_gate_the_verdict_says_so() -> None:
    rows = {line.split("│")[1].strip(): line
            for line in render_table([_advised()], color=False).splitlines()
            if line.startswith("│")}
    assert "fail (advisory)" in rows["security"] and "advisory" not in rows["lint"]
    gated = render_table([_advised(("security",))], color=False)
    assert "advisory" not in gated and "fail" in gated.splitlines()[0]
    assert render_table([_advised()], color=False).splitlines()[0].split()[-1] == "pass"


def test_a_cached_verdict_says_its_times_are_the_first_runs() -> None:
    text = render_table([replace(_advised(), cached=True)], color=False, width=200)
    assert "(cached: stage times are the first run's)" in text.splitlines()[0]


@pytest.mark.parametrize("columns", [60, 100, 160])
def test_the_tables_fit_the_terminal_width_rich_finds(columns, validate_fail, monkeypatch):
    long = Diagnostic("error", "x" * 150, "detail " * 40, file="modules/network/main.tf", line=1)
    stages = (*validate_fail.stages[:2], replace(validate_fail.stages[2], diagnostics=(long,)))
    cert = replace(validate_fail, stages=stages, source="s" * 120)
    monkeypatch.setenv("COLUMNS", str(columns))
    lines = render_table([cert], color=False).splitlines()
    assert max(len(line) for line in lines) == columns  # the long cells fill it, and wrap
    assert "".join(lines).count("x" * 10) >= 10  # folded, not cut off with an ellipsis
