"""The local backend on the real embedded model (SmolLM2-135M-Instruct GGUF), loaded once.

Budgets are tiny: the point is that batching, padding, seeds and the repair loop work on a real
model, not that a 135M model writes good Terraform (it does not).
"""

from __future__ import annotations

import io
import json

import pytest

from iacforge.generate import LoopConfig, Request, run_loop, write_trajectories
from iacforge.hcl.extract import from_text
from iacforge.llm import Sampling, load_backend
from iacforge.llm.hf import HFBackend
from iacforge.prompts import generation_prompt
from iacforge.render.feedback import render_feedback
from iacforge.verify.pipeline import Verifier

pytestmark = pytest.mark.slow

SHORT = [{"role": "user", "content": "Say hi."}]
LONG = generation_prompt("An S3 bucket for access logs, with versioning and encryption.")


@pytest.fixture(scope="module")
def backend() -> HFBackend:
    loaded = load_backend("embedded")
    assert isinstance(loaded, HFBackend)
    return loaded


def test_the_embedded_model_loads_as_a_plain_model_on_the_cpu(backend):
    assert backend.device == "cpu" and backend.tokenizer.padding_side == "left"
    # de-quantized on load: peft, saving and training take it as a plain model
    assert getattr(backend.model, "hf_quantizer", None) is None
    assert not getattr(backend.model, "is_quantized", False)
    assert getattr(backend.model.config, "quantization_config", None) is None
    assert backend.tokenizer.pad_token is not None


def test_n_texts_for_each_prompt_across_batches(backend, monkeypatch):
    monkeypatch.setattr(backend, "batch_size", 3)  # 2 prompts x 2 samples: two batches
    out = backend.generate([SHORT, LONG], 2, Sampling(max_new_tokens=8, seed=0))
    assert [len(texts) for texts in out] == [2, 2]
    assert all(isinstance(t, str) and t for texts in out for t in texts)
    assert "<|im_start|>" not in "".join(t for texts in out for t in texts)


def test_left_padding_leaves_a_short_prompts_greedy_reply_unchanged(backend):
    greedy = Sampling(max_new_tokens=8, temperature=0)
    alone = backend.generate([SHORT], 1, greedy)[0]
    batched = backend.generate([LONG, SHORT], 2, greedy)
    assert batched[1] == alone * 2


def test_a_seed_makes_sampling_repeatable(backend):
    sampling = Sampling(max_new_tokens=8, temperature=1.0, seed=123)
    assert backend.generate([SHORT], 2, sampling) == backend.generate([SHORT], 2, sampling)


def test_the_repair_loop_runs_end_to_end_on_the_real_model(backend):
    config = LoopConfig(samples=2, turns=2, sampling=Sampling(max_new_tokens=16, seed=0))
    result = run_loop(backend, Verifier(stages=["extract", "parse"]),
                      Request("An SQS queue named jobs."), config)
    assert 2 <= len(result.attempts) <= 4
    assert all(a.certificate.stages and a.reward is not None for a in result.attempts)
    for first, *rest in result.trajectories:
        for later in rest:  # a repaired sample saw its own reply and its certificate's feedback
            assert later.messages[-2]["content"] == first.reply
            assert render_feedback(first.certificate) in later.messages[-1]["content"]
    out = io.StringIO()
    write_trajectories(result, out, model="embedded")
    assert len(out.getvalue().splitlines()) == 2
    assert all(json.loads(line)["turns"] for line in out.getvalue().splitlines())


def test_a_real_mutation_keeps_every_file_the_reply_does_not_name(backend):
    files = {"main.tf": 'resource "aws_sqs_queue" "jobs" {}\n',
             "outputs.tf": 'output "url" {\n  value = aws_sqs_queue.jobs.url\n}\n'}
    config = LoopConfig(samples=2, turns=1, sampling=Sampling(max_new_tokens=24, seed=1))
    result = run_loop(backend, Verifier(stages=["extract", "parse"]),
                      Request("Name the queue jobs.", files=files), config)
    for attempt in result.attempts:
        named = from_text(attempt.reply).files
        if not named:
            assert attempt.candidate.files == {}
            continue
        for name, text in files.items():
            assert attempt.candidate.files[name] == named.get(name, text)
