"""The `tuned` model spec: the shipped LoRA adapter, its export, and the spec's usage errors."""

from __future__ import annotations

import json

import pytest

import iacforge.llm.tuned as tuned
from iacforge.errors import IacforgeError, SetupError
from iacforge.llm import BackendOptions, Sampling, load_backend
from iacforge.train.policy import LORA_TARGETS

torch = pytest.importorskip("torch")
safetensors = pytest.importorskip("safetensors.torch")


def test_the_shipped_adapter_is_a_small_float16_lora_on_every_linear_layer():
    adapter = tuned.tuned_adapter()
    config = json.loads((adapter / tuned.CONFIG).read_text())
    assert sorted(config["target_modules"]) == sorted(LORA_TARGETS)
    assert config["base_model_name_or_path"] == "SmolLM2-135M-Instruct"
    weights = safetensors.load_file(str(adapter / tuned.WEIGHTS))
    assert {str(t.dtype) for t in weights.values()} == {"torch.float16"}
    assert (adapter / tuned.WEIGHTS).stat().st_size < 12 * 2**20
    assert any(t.abs().sum() > 0 for name, t in weights.items() if "lora_B" in name)  # trained
    assert "## Scores" in (adapter / "README.md").read_text()  # the model card


def test_export_casts_to_float16_and_forgets_the_trainers_model_path(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    weights = {"a.lora_A.weight": torch.randn(4, 8), "a.lora_B.weight": torch.randn(8, 4)}
    safetensors.save_file(weights, str(run / tuned.WEIGHTS))
    (run / tuned.CONFIG).write_text(json.dumps({"r": 4, "base_model_name_or_path": "/home/x"}))
    target = tuned.export_adapter(run, tmp_path / "shipped")
    out = safetensors.load_file(str(target / tuned.WEIGHTS))
    assert out.keys() == weights.keys()
    assert all(out[k].dtype == torch.float16 and torch.allclose(out[k].float(), weights[k],
                                                                 atol=1e-2) for k in out)
    config = json.loads((target / tuned.CONFIG).read_text())
    assert config == {"r": 4, "base_model_name_or_path": "SmolLM2-135M-Instruct"}
    with pytest.raises(SetupError, match="not a LoRA run directory"):
        tuned.export_adapter(tmp_path / "shipped" / "nope")


def test_a_missing_adapter_is_a_setup_error_naming_the_base_model(tmp_path, monkeypatch):
    monkeypatch.setattr(tuned, "TUNED_ADAPTER", tmp_path)
    with pytest.raises(SetupError, match="--model embedded"):
        tuned.tuned_adapter()


@pytest.mark.parametrize(("spec", "options", "message"), [
    ("tuned:x", BackendOptions(), "takes no argument"),
    ("tuned", BackendOptions(adapter="runs/sft"), "--model embedded --adapter"),
])
def test_tuned_refuses_an_argument_or_a_second_adapter(spec, options, message):
    with pytest.raises(IacforgeError, match=message):
        load_backend(spec, options)


@pytest.mark.slow
def test_the_tuned_model_answers_in_parseable_fenced_terraform_where_the_base_does_not():
    from iacforge.generate import LoopConfig, Request, run_loop
    from iacforge.verify.pipeline import Verifier

    request = Request("An S3 bucket named app-logs with versioning enabled.")
    config = LoopConfig(samples=1, turns=1, sampling=Sampling(max_new_tokens=256, temperature=0))
    verifier = Verifier(stages=["extract", "parse"])
    tuned_result = run_loop(load_backend("tuned"), verifier, request, config)
    base_result = run_loop(load_backend("embedded"), verifier, request, config)
    assert tuned_result.best.certificate.passes("parse")
    assert 'resource "aws_s3_bucket"' in "".join(tuned_result.best.candidate.files.values())
    assert not base_result.best.certificate.passes("parse")
