"""Model specs → backends, the scripted backend, and the embedded model's location."""

from __future__ import annotations

import json

import pytest

import iacforge.llm as llm
from iacforge.config import Settings
from iacforge.errors import IacforgeError, SetupError
from iacforge.llm import BackendOptions, Sampling, ScriptedBackend, load_backend, register
from iacforge.llm.base import Backend
from iacforge.llm.embedded import GGUF_NAME, embedded_gguf
from iacforge.llm.openai import OpenAIBackend
from iacforge.llm.registry import DEFAULT_MODEL, default_model

HI = [{"role": "user", "content": "hi"}]


def test_public_names_are_sorted_and_importable():
    # ruff's order (RUF022): CONSTANTS, then Classes, then functions
    def kind(name: str) -> tuple[int, str]:
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert llm.__all__ == sorted(set(llm.__all__), key=kind)
    assert all(getattr(llm, name) is not None for name in llm.__all__)


def test_scripted_backend_replies_in_order_n_per_prompt_and_records_prompts():
    backend = ScriptedBackend(["a", "b", "c"])
    assert isinstance(backend, Backend)
    assert backend.generate([HI, HI], 1, Sampling()) == [["a"], ["b"]]
    assert backend.generate([HI], 1, Sampling(seed=4)) == [["c"]]
    assert backend.prompts == [HI, HI, HI] and backend.calls[1].sampling.seed == 4
    with pytest.raises(IacforgeError, match="ran out"):
        backend.generate([HI], 1, Sampling())


def test_scripted_backend_can_answer_with_a_function():
    backend = ScriptedBackend(lambda messages: messages[-1]["content"].upper())
    assert backend.generate([HI], 2, Sampling()) == [["HI", "HI"]]


def test_a_scripted_spec_replays_a_json_file(tmp_path):
    path = tmp_path / "replies.json"
    path.write_text(json.dumps(["one", "two"]))
    backend = load_backend(f"scripted:{path}")
    assert backend.generate([HI], 2, Sampling()) == [["one", "two"]]
    path.write_text(json.dumps({"not": "a list"}))
    with pytest.raises(IacforgeError, match="list of reply strings"):
        load_backend(f"scripted:{path}")


def test_an_openai_spec_needs_a_server_and_keeps_colons_in_the_model_name(monkeypatch):
    monkeypatch.delenv("IACFORGE_OPENAI_BASE_URL", raising=False)
    with pytest.raises(IacforgeError, match="--base-url"):
        load_backend("openai:llama3:8b")
    backend = load_backend("openai:llama3:8b", BackendOptions(base_url="http://127.0.0.1:1/v1"))
    assert isinstance(backend, OpenAIBackend) and backend.model == "llama3:8b"
    monkeypatch.setenv("IACFORGE_OPENAI_BASE_URL", "http://127.0.0.1:2/v1/")
    assert load_backend("openai:m").url == "http://127.0.0.1:2/v1/chat/completions"


def test_an_unknown_spec_suggests_a_close_one():
    with pytest.raises(IacforgeError, match="did you mean 'openai'"):
        load_backend("opneai:gpt")


def test_a_scheme_registers_once():
    with pytest.raises(ValueError, match="already registered"):
        register("hf")(lambda target, options: ScriptedBackend([]))


def test_the_default_model_is_one_setting_the_environment_can_override(monkeypatch):
    monkeypatch.delenv("IACFORGE_MODEL", raising=False)
    assert default_model() == DEFAULT_MODEL == "tuned"
    monkeypatch.setenv("IACFORGE_MODEL", "openai:x")
    assert default_model() == "openai:x"


def test_a_missing_embedded_model_says_how_to_install_it(tmp_path):
    with pytest.raises(SetupError, match="scripts/setup"):
        embedded_gguf(Settings(cache_dir=str(tmp_path)))
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / GGUF_NAME).write_bytes(b"GGUF")
    assert embedded_gguf(Settings(cache_dir=str(tmp_path))) == tmp_path / "models" / GGUF_NAME


def test_a_missing_local_model_is_a_setup_error(tmp_path):
    with pytest.raises(SetupError, match=r"neither a directory nor a \.gguf"):
        load_backend(f"hf:{tmp_path / 'nope'}")
    with pytest.raises(SetupError, match=r"0 \.gguf files"):
        load_backend(str(tmp_path))


def test_local_models_decode_under_the_schema_by_default_and_servers_freely():
    from iacforge.llm.registry import default_constrain

    assert [default_constrain(s) for s in ("tuned", "embedded", "hf:/m", "/m", None)] == [
        "schema"] * 5
    assert [default_constrain(s) for s in ("openai:qwen", "scripted:r.json")] == ["none"] * 2
