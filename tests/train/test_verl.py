"""The verl adapter against a real `iacforge serve` on loopback, and in process."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from iacforge.train import verl

pytestmark = pytest.mark.slow

FIXTURES = Path(__file__).parents[1] / "fixtures"
EXAMPLES = Path(__file__).parents[2] / "examples"
GOOD = (EXAMPLES / "pass_queue" / "main.tf").read_text()
NEEDS_RANDOM = (FIXTURES / "stages" / "error_provider_random" / "main.tf").read_text()
OUTPUT = 'output "n" {\n  value = aws_sqs_queue.orders.name\n}\n'
STAGES = ("validate",)


def fenced(text: str, name: str = "main.tf") -> str:
    return f"Here it is:\n```hcl {name}\n{text}```\n"


@pytest.fixture(scope="module")
def served():
    """`iacforge serve` on 127.0.0.1, a free port, in its own process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "iacforge.cli", "serve", "--host", "127.0.0.1", "--port", "0",
         "--workers", "2", "--no-cache"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(x) for x in proc.stderr], daemon=True).start()
    try:
        while "listening on" not in (line := lines.get(timeout=120)):
            pass
        url = line.split("listening on ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def test_scores_from_the_server_follow_the_reward_and_say_what_was_judged(served):
    scores = verl.compute_score_batch(
        ["terraform"] * 4,
        [fenced(GOOD), "no code at all", fenced(NEEDS_RANDOM), fenced(OUTPUT, "outputs.tf")],
        [None, "", None, None],
        [None, {}, None, {"files": [{"name": "main.tf", "text": GOOD}]}],
        url=served, stages=STAGES)
    # validates; nothing to verify; the verifier cannot judge (provider not offline);
    # a mutation reply beside the task's stored files validates
    assert [s["score"] for s in scores] == [0.5, 0.0, 0.0, 0.5]
    assert [s["judged"] for s in scores] == [1.0, 1.0, 0.0, 1.0]
    assert [s["fv1_validate"] for s in scores] == [1.0, 0.0, 0.0, 1.0]
    assert all(set(s) == set(scores[0]) and all(isinstance(v, float) for v in s.values())
               for s in scores)  # verl stacks each key into one numeric array


def test_the_naive_managers_call_and_the_in_process_verifier_agree_with_the_server(
        served, monkeypatch):
    monkeypatch.setenv(verl.URL_VARIABLE, served)
    remote = verl.compute_score("terraform", fenced(NEEDS_RANDOM), None, None,
                                stages=STAGES, unjudged=-1.0)
    assert (remote["score"], remote["judged"]) == (-1.0, 0.0)
    monkeypatch.delenv(verl.URL_VARIABLE)
    local = verl.compute_score("terraform", fenced(OUTPUT, "outputs.tf"), "",
                               {"files": json.dumps({"main.tf": GOOD})},
                               stages=STAGES)
    assert (local["score"], local["judged"]) == (0.5, 1.0)
