"""The harness in-process, with the scripted backend; terraform runs in one test only."""

from __future__ import annotations

import dataclasses

import pytest

from iacforge.data import Task
from iacforge.errors import IacforgeError
from iacforge.eval.harness import EvalConfig, open_run, results_of, run_eval
from iacforge.llm import ScriptedBackend
from iacforge.verify.pipeline import Verifier

GOOD = ('```hcl main.tf\nterraform {\n  required_providers {\n'
        '    aws = { source = "hashicorp/aws", version = "~> 5.0" }\n  }\n}\n\n'
        'resource "aws_sqs_queue" "q" {\n  name = "{name}"\n}\n```')
BROKEN = '```hcl main.tf\nresource "aws_sqs_queue" "q" {\n  name = "broken"\n```'
STAGES = ("parse", "lint")
TASKS = [Task("hard", "generate", "A queue named hard.", difficulty="2",
              resources=("aws_sqs_queue",)),
         Task("easy", "generate", "A queue named easy.", difficulty="1",
              resources=("aws_sqs_queue",))]


def reply(messages: list[dict[str, str]]) -> str:
    """`easy` right away; `hard` broken until the verifier's feedback comes back once."""
    request = messages[1]["content"]
    repaired = any(m["role"] == "assistant" for m in messages)
    if "named hard" in request and not repaired:
        return BROKEN
    return GOOD.replace("{name}", "hard" if "named hard" in request else "easy")


REPAIR = EvalConfig(samples=2, turns=3, ks=(1, 2), stages=STAGES)


def evaluate(path, backend, config=REPAIR, tasks=TASKS):
    run = open_run(path, tasks, config, "scripted")
    records = run_eval(tasks, run, config, backend=backend,
                       verifier=Verifier(stages=config.stages))
    return run, sorted(records, key=lambda r: (r["task_id"], r["sample"], r["turn"]))


def keys(records):
    return [(r["task_id"], r["sample"], r["turn"], r["passed"]) for r in records]


def test_each_sample_is_repaired_with_its_feedback_until_it_passes(tmp_path):
    backend = ScriptedBackend(reply)
    _, records = evaluate(tmp_path, backend)
    assert keys(records) == [("easy", 0, 1, True), ("easy", 1, 1, True),
                             ("hard", 0, 1, False), ("hard", 0, 2, True),
                             ("hard", 1, 1, False), ("hard", 1, 2, True)]
    # turn 1: both tasks in one call, n samples each; turn 2: hard's two identical repair
    # prompts asked as one prompt with n=2
    assert [(len(c.prompts), c.n) for c in backend.calls] == [(2, 2), (1, 2)]
    repair = backend.calls[1].prompts[0]
    assert [m["role"] for m in repair] == ["system", "user", "assistant", "user"]
    assert "did not pass" in repair[-1]["content"] and repair[2]["content"] == BROKEN
    assert all(r["content_hash"] and r["certificate"]["stages"] for r in records)


def test_results_show_the_repair_gain_by_turn(tmp_path):
    run, _ = evaluate(tmp_path, ScriptedBackend(reply))
    results = results_of(run)
    assert results["complete"] and results["samples_finished"] == 4
    assert results["overall"]["rates"]["lint"] == 1.0
    assert results["by_turn"]["1"]["lint"] == 0.5      # hard's broken replies do not parse
    assert results["by_turn"]["2"]["lint"] == 1.0
    assert list(results["by_difficulty"]) == ["1", "2"]


class CrashingBackend(ScriptedBackend):
    """Replies like `reply`, and dies on call number `crash_on` (a killed process)."""

    def __init__(self, crash_on: int) -> None:
        super().__init__(reply)
        self.crash_on = crash_on

    def generate(self, prompts, n, sampling):
        if len(self.calls) + 1 == self.crash_on:
            raise KeyboardInterrupt
        return super().generate(prompts, n, sampling)


def test_a_crashed_run_resumes_without_losing_or_repeating_work(tmp_path):
    _, uninterrupted = evaluate(tmp_path / "whole", ScriptedBackend(reply))
    with pytest.raises(KeyboardInterrupt):
        evaluate(tmp_path / "crashed", CrashingBackend(crash_on=2))  # dies asking for turn 2
    resumed_backend = ScriptedBackend(reply)
    run, resumed = evaluate(tmp_path / "crashed", resumed_backend)
    assert keys(resumed) == keys(uninterrupted)
    assert [r["content_hash"] for r in resumed] == [r["content_hash"] for r in uninterrupted]
    # only turn 2 was asked for again: turn 1 was written before the crash
    assert [(len(c.prompts), c.n) for c in resumed_backend.calls] == [(1, 2)]
    lines = run.file("samples").read_text().splitlines()
    assert len(lines) == len(uninterrupted)  # nothing counted twice on disk either


def test_replies_written_but_not_verified_are_verified_without_asking_again(tmp_path):
    config = EvalConfig(stages=STAGES)
    run = open_run(tmp_path, TASKS[:1], config, "scripted")
    run.append("replies", [{"task_id": "hard", "sample": 0, "turn": 1,
                            "reply": GOOD.replace("{name}", "hard"), "generate_seconds": 2.0}])
    backend = ScriptedBackend([])  # would raise if asked for anything
    records = run_eval(TASKS[:1], run, config, backend=backend,
                       verifier=Verifier(stages=config.stages))
    assert keys(records) == [("hard", 0, 1, True)] and not backend.calls
    assert records[0]["generate_seconds"] == 2.0


def test_references_are_judged_instead_of_a_model(tmp_path):
    tasks = [Task("ok", "generate", "A queue.", reference={"main.tf": 'locals {}\n'}),
             Task("bad", "generate", "A queue.", reference={"main.tf": 'locals {\n'})]
    config = EvalConfig(references=True, stages=STAGES)
    run = open_run(tmp_path, tasks, config, "references")
    records = run_eval(tasks, run, config, backend=None, verifier=Verifier(stages=STAGES))
    assert sorted(keys(records)) == [("bad", 0, 1, False), ("ok", 0, 1, True)]
    assert all(r["reply"] == "" for r in records)
    failure = {row["task_id"]: row["failure"] for row in results_of(run)["tasks"]}
    assert failure["bad"]["stage"] == "parse" and failure["ok"] is None


def test_a_mutation_keeps_the_files_the_reply_leaves_out(tmp_path):
    task = Task("m", "mutate", "Rename the queue.",
                files={"main.tf": 'resource "aws_sqs_queue" "q" {}\n', "vars.tf": "locals {}\n"})
    backend = ScriptedBackend([GOOD.replace("{name}", "renamed")])
    _, records = evaluate(tmp_path, backend, EvalConfig(stages=STAGES), [task])
    assert {f["name"] for f in records[0]["files"]} == {"main.tf", "vars.tf"}
    assert "renamed" in next(f["text"] for f in records[0]["files"] if f["name"] == "main.tf")
    assert "main.tf" in backend.calls[0].prompts[0][1]["content"]  # the files were shown


def test_intent_asked_for_is_left_out_for_tasks_without_a_policy(tmp_path):
    """Not refused, and judged up to what intent needs, in the same batch as tasks with one."""
    config = EvalConfig(stages=("parse", "intent"))
    judged = dataclasses.replace(TASKS[1], id="easy-judged", intent="package p\n\n"
                                 "default is_valid = true\n")
    _, records = evaluate(tmp_path, ScriptedBackend(reply), config, [TASKS[1], judged])
    stages = {r["task_id"]: [s["stage"] for s in r["certificate"]["stages"]] for r in records}
    assert stages["easy"] == ["extract", "parse", "screen", "validate", "plan"]
    assert stages["easy-judged"] == [*stages["easy"], "intent"]


def test_progress_counts_finished_samples(tmp_path):
    seen = []
    config = EvalConfig(samples=2, turns=3, stages=STAGES, chunk=1)
    run = open_run(tmp_path, TASKS, config, "scripted")
    run_eval(TASKS, run, config, backend=ScriptedBackend(reply), verifier=Verifier(stages=STAGES),
             on_progress=lambda p: seen.append((p.done, p.total, p.phase)))
    assert seen[0] == (0, 4, "resume") and seen[-1] == (4, 4, "verified")
    assert [d for d, _, _ in seen] == sorted(d for d, _, _ in seen)


@pytest.mark.parametrize(("options", "message"), [
    ({"samples": 2, "ks": (1, 5)}, "between 1 and --samples"),
    ({"references": True, "samples": 3, "ks": (1,)}, "one reference per task"),
    ({"turns": 0}, "at least 1"),
])
def test_config_mistakes_are_explained(options, message):
    with pytest.raises(IacforgeError, match=message):
        EvalConfig(**options)


def test_a_model_run_needs_a_backend(tmp_path):
    run = open_run(tmp_path, TASKS, EvalConfig(), "scripted")
    with pytest.raises(IacforgeError, match="needs a backend"):
        run_eval(TASKS, run, EvalConfig(), backend=None, verifier=Verifier(stages=STAGES))


def test_resuming_on_changed_tasks_is_refused(tmp_path):
    open_run(tmp_path, TASKS, EvalConfig(), "scripted")
    changed = [TASKS[0], Task("easy", "generate", "A queue named easier.")]
    with pytest.raises(IacforgeError, match="tasks"):
        open_run(tmp_path, changed, EvalConfig(), "scripted")
