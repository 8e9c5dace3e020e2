"""Metrics against values worked out by hand (see the comments beside each expectation)."""

from __future__ import annotations

from math import comb

import pytest

from iacforge.eval.metrics import judge, outcomes, pass_at_k, summarise

from .conftest import certificate


@pytest.mark.parametrize(("n", "c", "k", "expected"), [
    (5, 2, 1, 0.4),                                  # c / n
    (5, 2, 2, 1 - comb(3, 2) / comb(5, 2)),          # 1 - 3/10 = 0.7
    (5, 2, 4, 1.0),                                  # n - c < k: some pick holds a pass
    (10, 3, 5, 1 - comb(7, 5) / comb(10, 5)),        # 1 - 21/252
    (20, 0, 10, 0.0),
    (20, 20, 1, 1.0),
    (200, 7, 100, 1 - comb(193, 100) / comb(200, 100)),  # large n stays exact enough
])
def test_pass_at_k_matches_the_combinatorial_definition(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize(("n", "c", "k"), [(5, 2, 6), (5, 6, 1), (5, 2, 0)])
def test_pass_at_k_refuses_impossible_counts(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


@pytest.mark.parametrize(("verdict", "flags"), [
    ("correct", (True, True, True, True)),
    ("lenient", (True, True, True, False)),
    ("wrong_intent", (True, True, False, False)),
    ("no_plan", (True, False, False, False)),
    ("no_compile", (False, False, False, False)),
    ("no_parse", (False, False, False, False)),
    ("plan_error", (True, None, None, None)),  # the verifier could not judge: not a failure
])
def test_judge_reads_each_gate_from_the_certificate(verdict, flags):
    got, _ = judge(certificate(verdict))
    assert (got["compile"], got["deploy"], got["correct"], got["correct_strict"]) == flags


def test_correctness_is_not_judged_without_an_intent_stage():
    flags, _ = judge(certificate("correct", stages=("extract", "parse", "validate", "plan")))
    assert flags["deploy"] is True and flags["correct"] is None and flags["lint"] is None


def test_lint_and_compliance():
    flags, compliance = judge(certificate("correct", compliance=0.25, lint=False))
    assert flags["lint"] is False and compliance == 0.25
    flags, compliance = judge(certificate("no_parse"))  # neither ran: lint fails, no scan
    assert flags["lint"] is False and compliance is None


@pytest.fixture
def run_records(record):
    no_intent = ("extract", "parse", "screen", "validate", "plan", "security", "lint")
    s3 = ["correct", "correct", "wrong_intent", "no_plan", "no_compile"]
    vpc = ["lenient", "lenient", "correct", "plan_error", "no_parse"]
    records = [record("s3", i, v, lint=i != 0, compliance=0.5 if i == 1 else 1.0)
               for i, v in enumerate(s3)]
    records += [record("vpc", i, v) for i, v in enumerate(vpc)]
    records += [record("iam", i, "correct", stages=no_intent) for i in range(5)]
    return records


TASKS = [{"id": "s3", "difficulty": "1", "family": "s3"},
         {"id": "vpc", "difficulty": "2", "family": "vpc"},
         {"id": "iam", "difficulty": "2", "family": "iam"}]


def test_summary_of_a_hand_made_run(run_records):
    results = summarise(run_records, TASKS, ks=(1, 2, 5))
    overall = results["overall"]
    assert overall["tasks"] == 3 and overall["samples"] == 15
    rates = overall["rates"]
    assert rates["compile"] == pytest.approx(13 / 15)   # s3 4/5, vpc 4/5, iam 5/5
    assert rates["deploy"] == pytest.approx(11 / 14)    # vpc's plan error is not judged
    assert rates["correct"] == pytest.approx(5 / 9)     # s3 2/5 + vpc 3/4; iam has no intent
    assert rates["correct_strict"] == pytest.approx(3 / 9)  # s3 2/5 + vpc 1/4
    assert rates["lint"] == pytest.approx(13 / 15)      # s3 sample 0, vpc's unparsed sample
    assert rates["compliance"] == pytest.approx(13.5 / 14)  # the unparsed sample is not scanned
    assert overall["verifier_errors"] == 1
    assert overall["seconds_per_task"] == pytest.approx(15 * 2.0 / 3)

    by_task = {row["task_id"]: row for row in results["tasks"]}
    assert by_task["s3"]["counts"]["correct"] == [2, 5]
    assert by_task["vpc"]["counts"]["correct"] == [3, 4]
    assert by_task["iam"]["counts"]["correct"] == [0, 0]
    assert by_task["s3"]["pass_at_k"]["correct"] == pytest.approx({"1": 0.4, "2": 0.7, "5": 1.0})
    assert by_task["vpc"]["pass_at_k"]["correct"] == {"1": 0.75, "2": 1.0, "5": None}
    assert by_task["vpc"]["pass_at_k"]["correct_strict"] == pytest.approx(
        {"1": 0.25, "2": 1 - comb(3, 2) / comb(4, 2), "5": None})
    # averaged over the tasks where n >= k
    assert overall["pass_at_k"]["correct"] == pytest.approx(
        {"1": (0.4 + 0.75) / 2, "2": (0.7 + 1.0) / 2, "5": 1.0})
    assert overall["pass_at_k"]["deploy"]["1"] == pytest.approx((3 / 5 + 3 / 4 + 1) / 3)


def test_breakdowns_by_difficulty_and_family(run_records):
    results = summarise(run_records, TASKS, ks=(1,))
    assert list(results["by_difficulty"]) == ["1", "2"]
    two = results["by_difficulty"]["2"]
    assert two["tasks"] == 2 and two["samples"] == 10
    assert two["rates"]["compile"] == pytest.approx(9 / 10)
    assert two["rates"]["correct"] == pytest.approx(3 / 4)
    assert results["by_family"]["s3"]["rates"]["deploy"] == pytest.approx(3 / 5)
    assert set(results["by_family"]) == {"s3", "vpc", "iam"}
    assert results["stages"]["plan"] == {"pass": 11, "fail": 1, "error": 1, "skipped": 2}


def test_failure_names_the_first_stage_short_of_correct(run_records):
    by_task = {row["task_id"]: row for row in summarise(run_records, TASKS, (1,))["tasks"]}
    assert by_task["s3"]["failure"]["stage"] == "intent"     # sample 2, the first that failed
    assert by_task["vpc"]["failure"] == {
        "stage": "intent (strict)", "status": "pass",
        "summary": "intent rule is_valid is undefined", "detail": ""}
    assert by_task["iam"]["failure"] is None


def test_the_answer_is_the_best_attempt_and_by_turn_shows_the_repair_gain(record):
    records = [record("t", 0, "no_compile", turn=1), record("t", 0, "correct", turn=2),
               record("t", 1, "wrong_intent", turn=1), record("t", 1, "no_compile", turn=2)]
    answers = outcomes(records)
    assert [(o.sample, o.turn) for o in answers] == [(0, 2), (1, 1)]
    results = summarise(records, [{"id": "t", "difficulty": None, "family": "x"}], (1,), turns=2)
    assert results["by_turn"]["1"]["correct"] == 0.0
    assert results["by_turn"]["2"]["correct"] == 0.5
    assert results["by_turn"]["2"]["compile"] == 1.0
    assert list(results["by_difficulty"]) == ["unknown"]


def test_failure_evidence_carries_the_location_and_first_detail_line(record):
    results = summarise([record("t", 0, "no_compile")], [{"id": "t"}], (1,))
    assert results["tasks"][0]["failure"] == {
        "stage": "validate", "status": "fail", "summary": "main.tf:3: validate failed here",
        "detail": "line one"}
