"""The repair loop with a scripted model and the real verifier: turns, feedback, trajectories,
early stop, best-by-reward, and mutations that keep the files a reply leaves out."""

from __future__ import annotations

import io
import json

import pytest

from iacforge.certificate import Certificate
from iacforge.diagnostics import StageResult
from iacforge.generate import (
    Attempt,
    LoopConfig,
    Progress,
    Request,
    Result,
    run_loop,
    write_trajectories,
)
from iacforge.llm import Sampling, ScriptedBackend
from iacforge.prompts import generation_prompt, mutation_prompt, render, repair_prompt
from iacforge.render.feedback import render_feedback
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier

GOOD = '```hcl main.tf\nresource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n}\n```\n'
# the closing brace is missing: parse fails with a line number
BROKEN = 'Here it is:\n```hcl main.tf\nresource "aws_sqs_queue" "jobs" {\n  name = "jobs"\n```\n'
PROSE = "I cannot help with that."
PARSE = ["extract", "parse"]


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(stages=PARSE)


def loop(replies: list[str], verifier: Verifier, *, samples: int = 1, turns: int = 3,
         request: Request | None = None, **sampling: object):
    backend = ScriptedBackend(replies)
    config = LoopConfig(samples, turns, Sampling(**sampling))  # type: ignore[arg-type]
    events: list[Progress] = []
    result = run_loop(backend, verifier, request or Request("An SQS queue named jobs."), config,
                      on_progress=events.append)
    return result, backend, events


def test_a_passing_first_reply_ends_the_loop_after_one_turn(verifier):
    result, backend, _ = loop([BROKEN, GOOD], verifier, samples=2, turns=5)
    assert result.passed and result.turns_used == 1
    assert (result.best.sample, result.best.turn) == (1, 1)
    assert len(backend.calls) == 1 and backend.calls[0].n == 2


def test_feedback_of_a_failing_certificate_is_the_next_turns_prompt(verifier):
    result, backend, _ = loop([BROKEN, GOOD], verifier)
    first, second = result.trajectories[0]
    assert first.certificate.failed_stage == "parse" and second.passed
    diagnostic = first.certificate.stage("parse").diagnostics[0]
    assert diagnostic.line is not None
    prompt = backend.calls[1].prompts[0]
    assert prompt[:2] == generation_prompt("An SQS queue named jobs.")
    assert prompt[2] == {"role": "assistant", "content": BROKEN}
    assert prompt[3]["role"] == "user"
    assert diagnostic.summary in prompt[3]["content"]
    assert f"main.tf:{diagnostic.line}" in prompt[3]["content"]
    assert render_feedback(first.certificate) in prompt[3]["content"]
    assert second.messages == prompt


def test_every_sample_is_repaired_on_its_own_until_one_passes(verifier):
    result, backend, _ = loop([BROKEN, PROSE, BROKEN, GOOD, GOOD], verifier, samples=2,
                              turns=5)
    assert [len(t) for t in result.trajectories] == [2, 2]
    assert [(len(c.prompts), c.n) for c in backend.calls] == [(1, 2), (2, 1)]
    assert [p[2]["content"] for p in backend.calls[1].prompts] == [BROKEN, PROSE]
    assert result.best.passed and (result.best.sample, result.best.turn) == (1, 2)
    assert backend.remaining == 1  # no third turn


def test_without_a_pass_every_turn_is_used_and_recorded(verifier):
    result, backend, events = loop([BROKEN] * 6, verifier, samples=2, turns=3)
    assert not result.passed and result.turns_used == 3
    assert [[a.turn for a in t] for t in result.trajectories] == [[1, 2, 3], [1, 2, 3]]
    assert [(e.phase, e.turn) for e in events] == [
        (phase, turn) for turn in (1, 2, 3) for phase in ("generate", "verify", "turn_done")]
    assert backend.remaining == 0


def test_trajectories_are_written_one_json_line_per_sample(verifier):
    result, _, _ = loop([BROKEN, PROSE, GOOD, BROKEN], verifier, samples=2, turns=3)
    out = io.StringIO()
    assert write_trajectories(result, out, model="scripted") == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["sample"] for line in lines] == [0, 1]
    assert [line["passed"] for line in lines] == [True, False]
    first, second = lines
    assert [t["turn"] for t in first["turns"]] == [1, 2]
    assert [t["certificate"]["status"] for t in first["turns"]] == ["fail", "pass"]
    assert [t["reply"] for t in first["turns"]] == [BROKEN, GOOD]
    assert second["turns"][0]["problems"] and second["turns"][0]["files"] == {}
    assert second["turns"][1]["messages"][2]["content"] == PROSE
    assert {"request", "model", "intent", "kind", "initial_files", "final_reward"} <= first.keys()
    assert first["model"] == "scripted" and first["kind"] == "generate"


def test_each_turn_samples_with_its_own_seed(verifier):
    _, backend, _ = loop([BROKEN, BROKEN, GOOD], verifier, turns=3, seed=7)
    assert [c.sampling.seed for c in backend.calls] == [7, 8, 9]


def test_the_best_attempt_is_chosen_by_reward_before_turn_order():
    def attempt(sample: int, turn: int, reward: float | None, *statuses: str) -> Attempt:
        stages = tuple(StageResult(n, s) for n, s in zip(("extract", "parse", "validate",
                                                           "plan"), statuses, strict=False))
        return Attempt(sample, turn, [], "", None, Certificate("h", stages), reward)  # type: ignore[arg-type]

    early = attempt(0, 1, 0.0, "pass", "pass", "fail")
    better = attempt(1, 3, 0.5, "pass", "pass", "pass", "fail")
    unjudged = attempt(1, 2, None, "pass", "pass", "error")
    result = Result(Request("x"), [[early], [unjudged, better]], 0.0)
    assert result.best is better
    tie = attempt(0, 2, 0.5, "pass", "pass", "pass", "fail")
    assert Result(Request("x"), [[early, tie], [better]], 0.0).best is tie


@pytest.mark.slow
def test_the_best_candidate_by_reward_wins_when_none_passes():
    """validate passes (reward 0.5) but lint, which gates here, does not: not a full pass,
    yet the best one."""
    untyped = ('```hcl main.tf\nvariable "name" {}\nresource "aws_sqs_queue" "q" {\n'
               '  name = var.name\n}\n```\n')
    verifier = Verifier(stages=["validate", "lint"], options=VerifierOptions(fail_on=["lint"]))
    result, _, _ = loop([BROKEN, untyped], verifier, samples=2, turns=1)
    assert [a.reward for a in result.attempts] == [0.0, 0.5]
    assert not result.passed and result.best.sample == 1
    assert result.best.certificate.failed_stage == "lint"


def test_a_mutation_keeps_the_files_its_reply_leaves_out(verifier):
    files = {"main.tf": 'resource "aws_sqs_queue" "jobs" {}\n',
             "outputs.tf": 'output "url" {\n  value = aws_sqs_queue.jobs.url\n}\n'}
    request = Request("Name the queue jobs.", files=files)
    result, backend, _ = loop([GOOD], verifier, request=request)
    assert result.passed
    assert result.best.candidate.files == {"main.tf": GOOD.split("\n", 1)[1].rsplit("```", 1)[0],
                                           "outputs.tf": files["outputs.tf"]}
    assert backend.prompts[0] == mutation_prompt(files, "Name the queue jobs.")
    assert request.kind == "mutate"


def test_a_mutation_reply_without_code_keeps_nothing():
    request = Request("Name the queue jobs.", files={"main.tf": "locals {}\n"})
    candidate = request.candidate(PROSE, "s")
    assert candidate.files == {} and candidate.problems


def test_the_mutation_prompt_shows_every_file_by_name_in_order():
    files = {"z.tf": "locals {}", "a.tf.json": "{}\n"}
    content = mutation_prompt(files, "Change it.")[1]["content"]
    json_block, hcl_block = "```json a.tf.json\n{}\n```", "```hcl z.tf\nlocals {}\n```"
    assert content.index(json_block) < content.index(hcl_block)
    assert content.rstrip().endswith("kept as they are.")


def test_the_repair_prompt_keeps_only_the_latest_attempt():
    first = generation_prompt("A queue.")
    second = repair_prompt(first, "reply 1", "parse failed")
    third = repair_prompt(first, "reply 2", "validate failed")
    assert len(second) == len(third) == 4
    assert third[2]["content"] == "reply 2" and "validate failed" in third[3]["content"]


def test_a_template_must_get_exactly_its_placeholders():
    with pytest.raises(ValueError, match="request"):
        render("generate")
    with pytest.raises(ValueError, match="extra"):
        render("generate", request="x", extra="y")


def test_loop_settings_are_checked():
    with pytest.raises(ValueError, match="samples"):
        LoopConfig(samples=0)
    with pytest.raises(ValueError, match="turns"):
        LoopConfig(turns=0)
    with pytest.raises(ValueError, match="top_p"):
        Sampling(top_p=0)
