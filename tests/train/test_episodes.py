"""Repair episodes as trees, on the scripted backend and the real (parse-only) verifier."""

from __future__ import annotations

from iacforge.data.task import Task
from iacforge.llm import ScriptedBackend
from iacforge.llm.base import Sampling
from iacforge.prompts import generation_prompt
from iacforge.train.episodes import all_nodes, chains, rollout
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import verify_all

GOOD = "```hcl main.tf\nlocals {}\n```"
BAD = "```hcl main.tf\nlocals {\n```"
TASK = Task("t", "generate", "Nothing at all.")


def judge(candidates, intents):
    return verify_all(candidates, intents, verifier=Verifier(stages=["parse"]), workers=1)


def test_failed_attempts_are_expanded_with_their_feedback_until_they_pass():
    backend = ScriptedBackend([GOOD, BAD,    # turn 1: the group of 2
                               BAD, GOOD,    # turn 2: the failed attempt's 2 repairs
                               GOOD, GOOD])  # turn 3: the failed repair's 2 repairs
    [roots] = rollout(backend, judge, [TASK], group=2, branch=2, turns=3, sampling=Sampling())
    assert [n.payload.passed for n in roots] == [True, False]
    assert roots[0].children == []
    assert [n.payload.passed for n in roots[1].children] == [False, True]
    assert [n.payload.turn for n in roots[1].children[0].children] == [3, 3]
    assert len(all_nodes([*roots])) == 6
    repair = roots[1].children[0].payload.prompt
    assert repair[:2] == generation_prompt("Nothing at all.")
    assert repair[2] == {"role": "assistant", "content": BAD}
    assert "did not pass" in repair[3]["content"]
    assert [len(call.prompts) for call in backend.calls] == [1, 1, 1]


def test_branch_one_gives_one_chain_per_first_attempt_and_the_turn_limit_holds():
    backend = ScriptedBackend([BAD, "no code at all", BAD, BAD])
    [roots] = rollout(backend, judge, [TASK], group=2, branch=1, turns=2, sampling=Sampling())
    lines = chains(roots)
    assert [len(line) for line in lines] == [2, 2]
    assert [n.payload.turn for n in lines[0]] == [1, 2]
    # a reply with a named code block is "formatted" even when it does not parse
    assert [[n.payload.formatted for n in line] for line in lines] == [[True, True],
                                                                      [False, True]]
