"""Which model files training (and generate) load for the embedded model."""

from __future__ import annotations

import pytest

from iacforge.config import Settings
from iacforge.errors import SetupError
from iacforge.llm.embedded import DENSE_NAME, GGUF_NAME, embedded_model
from iacforge.train.policy import LoraSettings, model_path


def test_the_de_quantized_copy_is_preferred_once_it_is_complete(tmp_path):
    settings = Settings(cache_dir=str(tmp_path))
    models = tmp_path / "models"
    models.mkdir()
    (models / GGUF_NAME).write_bytes(b"GGUF")
    assert embedded_model(settings) == models / GGUF_NAME
    dense = models / DENSE_NAME
    dense.mkdir()
    (dense / "config.json").write_text("{}")
    assert embedded_model(settings) == models / GGUF_NAME  # no weights yet: not complete
    (dense / "model.safetensors").write_bytes(b"")
    assert embedded_model(settings) == dense


def test_a_missing_model_path_is_a_setup_error(tmp_path):
    with pytest.raises(SetupError, match="no such directory"):
        model_path(f"hf:{tmp_path / 'nope'}")
    assert model_path(str(tmp_path)) == tmp_path


def test_rank_zero_means_full_fine_tuning():
    assert LoraSettings(rank=0).peft_config() is None  # the trainers then get no peft config


def test_a_kept_adapter_s_run_records_the_adapter_s_shape_not_the_unused_setting():
    from iacforge.llm.tuned import tuned_adapter
    from iacforge.train.sft import SFTRun

    shipped = LoraSettings.of_adapter(tuned_adapter())
    assert shipped != LoraSettings()  # the shipped adapter is rank 16, the setting 8
    assert SFTRun(tasks="t", out="o", adapter=tuned_adapter()).to_json()["lora"]["rank"] == \
        shipped.rank
    assert SFTRun(tasks="t", out="o").to_json()["lora"]["rank"] == LoraSettings().rank


def test_an_adapter_without_a_config_is_a_setup_error(tmp_path):
    with pytest.raises(SetupError, match="LoRA shape"):
        LoraSettings.of_adapter(tmp_path)
