"""`--runtime llama.cpp`: the tuned model on an in-process loopback llama.cpp server, the flag's
way from the command line to the backend, and the combinations it refuses."""

from __future__ import annotations

import sys

import pytest

from iacforge.cli import build_parser, main
from iacforge.commands.generate import backend_options
from iacforge.constrain.grammar import grammar_for
from iacforge.errors import ConfigError, SetupError
from iacforge.llm import BackendOptions, Sampling, load_backend
from iacforge.llm.llamacpp import LlamaCppBackend
from iacforge.prompts import generation_prompt

pytest.importorskip("xllamacpp")
REQUEST = "An SQS queue named jobs with a visibility timeout of 60 seconds."


@pytest.fixture(scope="module")
def tuned():
    backend = load_backend("tuned", BackendOptions(runtime="llama.cpp", concurrency=2))
    yield backend
    backend.close()


@pytest.fixture(scope="module")
def constraint():
    from transformers import AutoTokenizer

    from iacforge.constrain.processor import Constraint
    from iacforge.llm.embedded import embedded_model

    return Constraint(AutoTokenizer.from_pretrained(str(embedded_model())))


def test_the_tuned_model_is_served_on_loopback_and_keeps_to_the_schema(tuned, constraint):
    assert isinstance(tuned, LlamaCppBackend)
    assert tuned.client.url.startswith("http://127.0.0.1:")
    assert "-lora-" in tuned.name  # the merged GGUF, not the base model
    prompt = generation_prompt(REQUEST)
    # constrain left to the backend: local models default to the schema
    texts = tuned.generate([prompt], 2, Sampling(max_new_tokens=96, temperature=0))[0]
    assert texts[0] == texts[1] and "aws_sqs_queue" in texts[0]
    assert constraint.accepts(texts[0], grammar_for("schema", REQUEST), prefix=True) is None


def test_n_samples_and_the_seed_are_honoured(tuned):
    # a free prompt: the Terraform replies all open with the same boilerplate
    prompt = [{"role": "user", "content": "Name three colours."}]
    sampling = Sampling(max_new_tokens=24, temperature=1.0, seed=3, constrain="none")
    first = tuned.generate([prompt], 3, sampling)[0]
    assert len(first) == 3 and len(set(first)) == 3  # not one sample thrice
    assert tuned.generate([prompt], 3, sampling)[0] == first


def test_a_closed_backend_says_so():
    from iacforge.llm.embedded import embedded_gguf

    backend = LlamaCppBackend(embedded_gguf(), slots=1)
    backend.close()
    with pytest.raises(SetupError, match="closed"):
        backend.generate([generation_prompt(REQUEST)], 1, Sampling(max_new_tokens=4))


def test_reject_mode_is_refused(tuned):
    with pytest.raises(ConfigError, match="reject"):
        tuned.generate([generation_prompt(REQUEST)], 1, Sampling(constrain_mode="reject"))


@pytest.mark.parametrize("command", [["generate", "x"], ["eval", "--tasks", "t.jsonl"]])
def test_the_runtime_flag_reaches_the_backend_options(command):
    args = build_parser().parse_args([*command, "--runtime", "llama.cpp", "--adapter", "a"])
    assert backend_options(args) == BackendOptions(adapter="a", runtime="llama.cpp")
    assert backend_options(build_parser().parse_args(command)).runtime == "transformers"


def test_bad_combinations_are_usage_errors(capsys, tmp_path):
    code = main(["generate", "x", "--runtime", "llama.cpp", "--constrain-mode", "reject",
                 "--out", str(tmp_path / "out")])
    assert code == 2
    assert "reject runs on --runtime transformers only" in capsys.readouterr().err
    with pytest.raises(ConfigError, match="openai"):
        load_backend("openai:m", BackendOptions(runtime="llama.cpp", base_url="http://x"))
    with pytest.raises(ConfigError, match=r"not .*with --adapter"):
        load_backend(str(tmp_path), BackendOptions(runtime="llama.cpp", adapter="a"))
    with pytest.raises(ConfigError, match="runtime must be"):
        BackendOptions(runtime="vllm")


def test_without_xllamacpp_the_error_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "xllamacpp", None)  # import raises ImportError
    with pytest.raises(SetupError, match="pip install"):
        LlamaCppBackend("model.gguf")
