"""The merged GGUF: llama.cpp's layout of the embedded model, cached by the adapter's hash."""

from __future__ import annotations

import shutil

import pytest

from iacforge.errors import SetupError
from iacforge.llm.embedded import embedded_gguf, embedded_model
from iacforge.llm.gguf_export import adapter_hash, merged_gguf, write_gguf
from iacforge.llm.tuned import tuned_adapter

gguf = pytest.importorskip("gguf")
np = pytest.importorskip("numpy")
safetensors = pytest.importorskip("safetensors.numpy")


CHECKED = ("blk.0.attn_q.weight", "blk.7.attn_k.weight", "blk.3.attn_v.weight",
           "blk.29.ffn_down.weight", "output_norm.weight", "token_embd.weight")


def tensors(path) -> dict:
    """name → shape of every tensor, and name → values of the CHECKED ones."""
    from gguf.quants import dequantize

    reader = gguf.GGUFReader(path)
    shapes = {t.name: tuple(reversed([int(n) for n in t.shape])) for t in reader.tensors}
    values = {t.name: dequantize(t.data, t.tensor_type).reshape(shapes[t.name])
              for t in reader.tensors if t.name in CHECKED}
    return shapes, values


def test_the_dense_weights_written_back_are_the_embedded_gguf(tmp_path):
    """The embedded GGUF de-quantizes to the dense copy, so writing the dense copy must give the
    GGUF's tensors again: same names, shapes and keys, and the Q/K rows in llama.cpp's order
    (without the interleave, attn_q differs by whole units)."""
    base = embedded_gguf()
    dense = safetensors.load_file(str(embedded_model() / "model.safetensors"))
    out = tmp_path / "dense.gguf"
    write_gguf(base, dense, out, "F16", provenance="test")
    (want_shapes, want), (got_shapes, got) = tensors(base), tensors(out)
    assert got_shapes == want_shapes
    for name in CHECKED:
        assert np.abs(got[name] - want[name]).max() < 2e-3 * max(1, np.abs(want[name]).max()), name
    base_fields = gguf.GGUFReader(base).fields
    fields = gguf.GGUFReader(out).fields
    assert set(fields) == set(base_fields) | {"iacforge.merged_adapter"}
    for key in ("tokenizer.chat_template", "tokenizer.ggml.tokens", "llama.rope.freq_base",
                "tokenizer.ggml.token_type"):
        assert fields[key].contents() == base_fields[key].contents(), key
    assert fields["general.file_type"].contents() == 1  # F16


def test_the_export_is_cached_under_the_adapters_content_hash(tmp_path):
    adapter = tuned_adapter()
    path = merged_gguf(adapter)
    assert path.parent == embedded_gguf().parent
    assert merged_gguf(adapter) == path and merged_gguf(None) == embedded_gguf()
    key = gguf.GGUFReader(path).fields["iacforge.merged_adapter"].contents()
    assert key[:16] in path.name
    assert not list(path.parent.glob("*.part"))  # nothing half-written left behind
    copy = tmp_path / "adapter"
    shutil.copytree(adapter, copy)
    assert adapter_hash(copy) == adapter_hash(adapter)
    (copy / "adapter_config.json").write_text((copy / "adapter_config.json").read_text() + " ")
    assert adapter_hash(copy) != adapter_hash(adapter)
    (copy / "adapter_model.safetensors").unlink()
    with pytest.raises(SetupError, match=r"adapter_model\.safetensors"):
        merged_gguf(copy)
