"""Opt-in: the OpenAI-compatible backend and the repair loop against a real server on loopback.

Run with a server up, e.g. vLLM (CPU) serving the embedded model:

    IACFORGE_OPENAI_BASE_URL=http://127.0.0.1:8000/v1 pytest -m optin tests/llm/test_openai_live.py

`IACFORGE_OPENAI_MODEL` names the model; by default the first one the server lists.
"""

from __future__ import annotations

import json
import os
import urllib.request

import pytest

from iacforge.generate import LoopConfig, Request, run_loop
from iacforge.llm import BackendOptions, Sampling, load_backend
from iacforge.render.feedback import render_feedback
from iacforge.verify.pipeline import Verifier

BASE_URL = os.environ.get("IACFORGE_OPENAI_BASE_URL", "")
pytestmark = [
    pytest.mark.optin,
    pytest.mark.skipif(not BASE_URL, reason="IACFORGE_OPENAI_BASE_URL is not set"),
]


@pytest.fixture(scope="module")
def model() -> str:
    if os.environ.get("IACFORGE_OPENAI_MODEL"):
        return os.environ["IACFORGE_OPENAI_MODEL"]
    with urllib.request.urlopen(BASE_URL.rstrip("/") + "/models", timeout=30) as response:
        return json.loads(response.read())["data"][0]["id"]


def test_a_real_server_returns_n_completions_per_prompt(model):
    backend = load_backend(f"openai:{model}", BackendOptions(base_url=BASE_URL))
    prompts = [[{"role": "user", "content": "Say hi."}],
               [{"role": "user", "content": "Name one AWS service."}]]
    out = backend.generate(prompts, 2, Sampling(max_new_tokens=16, seed=0))
    assert [len(texts) for texts in out] == [2, 2]
    assert all(isinstance(t, str) for texts in out for t in texts)


def test_the_repair_loop_runs_against_a_real_server(model):
    backend = load_backend(f"openai:{model}", BackendOptions(base_url=BASE_URL))
    config = LoopConfig(samples=2, turns=2, sampling=Sampling(max_new_tokens=64, seed=0))
    result = run_loop(backend, Verifier(stages=["extract", "parse"]),
                      Request("An SQS queue named jobs."), config)
    assert 2 <= len(result.attempts) <= 4
    for first, *rest in result.trajectories:
        for later in rest:
            assert render_feedback(first.certificate) in later.messages[-1]["content"]
