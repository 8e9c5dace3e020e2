"""A LoRA adapter merged into the embedded model, written as a GGUF that llama.cpp loads.

`merged_gguf(adapter)` merges the adapter into the dense embedded model (peft
`merge_and_unload`), then writes one GGUF: every metadata key of the embedded GGUF (architecture,
hyper-parameters, tokenizer, chat template) copied as is, and the merged weights under the names
and in the layout the embedded GGUF has. The result is cached in `<cache_dir>/models/` under the
adapter's content hash and written atomically; no adapter means the embedded GGUF itself.

Why not llama.cpp's `convert_hf_to_gguf.py`: it is a 10,000-line script outside any package,
made for every architecture on the hub; this module writes one known architecture from a GGUF
that already holds everything but the weights, so the embedded GGUF is the template (its tensor
list, names, shapes and keys) and only the weights change. Two facts about that layout, checked
by `tests/llm/test_gguf_export.py` against the dense copy the embedded model de-quantizes to:

- the tensor names are llama.cpp's (`blk.N.attn_q.weight`), mapped from transformers' below;
- llama.cpp applies rotary embeddings to adjacent pairs of a head's dimensions, transformers to
  its two halves, so the rows of each head of `attn_q` and `attn_k` are interleaved: row
  `2i` of a head is its row `i`, row `2i + 1` its row `i + head_dim / 2`.

The tensor type is `F16` (measured against `Q8_0` with `bench/generation_speed.py`: see
`TENSOR_TYPE`). Norms stay `F32`, as in the embedded GGUF.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

from iacforge.config import Settings
from iacforge.errors import SetupError
from iacforge.llm.embedded import embedded_gguf, embedded_model, models_dir

TensorType = Literal["F16", "Q8_0"]
#: The tensor type of merged GGUFs (see the module docstring and the bench script).
TENSOR_TYPE: TensorType = "F16"
#: Bump when the written file changes for the same adapter (the cache key includes it).
FORMAT = 1
#: `general.file_type` (llama.cpp's `LLAMA_FTYPE_MOSTLY_*`) for each tensor type.
_FILE_TYPE = {"F16": 1, "Q8_0": 7}
#: transformers' module names → llama.cpp's, for the llama architecture.
_NAMES = {
    "self_attn.q_proj": "attn_q", "self_attn.k_proj": "attn_k", "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output", "mlp.gate_proj": "ffn_gate", "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down", "input_layernorm": "attn_norm",
    "post_attention_layernorm": "ffn_norm",
}
_LAYER = re.compile(r"model\.layers\.(\d+)\.(.+)\.weight")


def gguf_name(hf_name: str) -> str:
    """llama.cpp's name for a transformers weight of a llama model.

    >>> gguf_name("model.layers.3.self_attn.q_proj.weight")
    'blk.3.attn_q.weight'
    """
    fixed = {"model.embed_tokens.weight": "token_embd.weight",
             "model.norm.weight": "output_norm.weight", "lm_head.weight": "output.weight"}
    if hf_name in fixed:
        return fixed[hf_name]
    match = _LAYER.fullmatch(hf_name)
    if not match or match.group(2) not in _NAMES:
        raise SetupError(f"no llama.cpp name for weight {hf_name!r}")
    return f"blk.{match.group(1)}.{_NAMES[match.group(2)]}.weight"


def interleave_heads(weight: Any, heads: int) -> Any:
    """Rows of each head reordered from transformers' rotary halves to llama.cpp's pairs.

    >>> import numpy as np
    >>> interleave_heads(np.arange(8), 2).tolist()
    [0, 2, 1, 3, 4, 6, 5, 7]
    """
    rows = weight.shape[0]
    halves = weight.reshape(heads, 2, rows // heads // 2, *weight.shape[1:])
    return halves.swapaxes(1, 2).reshape(weight.shape)


def adapter_hash(adapter: Path) -> str:
    """Content hash of an adapter directory's config and weights."""
    digest = hashlib.sha256()
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        path = adapter / name
        if not path.is_file():
            raise SetupError(f"adapter {adapter}: no {name} (not a LoRA adapter directory?)")
        digest.update(name.encode() + b"\0")
        with path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
    return digest.hexdigest()


def merged_gguf(adapter: str | Path | None, settings: Settings | None = None,
                tensor_type: TensorType = TENSOR_TYPE) -> Path:
    """The GGUF of the embedded model with `adapter` merged in (cached); None: the embedded GGUF."""
    base = embedded_gguf(settings)
    if adapter is None:
        return base
    adapter = Path(adapter).expanduser()
    key = hashlib.sha256(f"{adapter_hash(adapter)}:{tensor_type}:{FORMAT}".encode()).hexdigest()
    target = models_dir(settings) / f"{base.stem.split('.')[0]}-lora-{key[:16]}.{tensor_type}.gguf"
    if target.is_file():
        return target
    weights = _merged_weights(adapter, settings)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix=target.name, suffix=".part", dir=target.parent)
    os.close(fd)
    try:
        write_gguf(base, weights, Path(partial), tensor_type, provenance=key)
        os.chmod(partial, 0o644)  # mkstemp's 0600 is for the unfinished file only
        os.replace(partial, target)  # atomic: a half-written file is never taken for the model
    finally:
        Path(partial).unlink(missing_ok=True)
    return target


def _merged_weights(adapter: Path, settings: Settings | None) -> dict[str, Any]:
    """The dense model's weights with the adapter merged in, as float32 numpy arrays."""
    from iacforge.llm.hf import HFBackend

    backend = HFBackend(embedded_model(settings), adapter=adapter, device="cpu")
    model = backend.model.merge_and_unload()
    return {name: tensor.detach().float().numpy() for name, tensor in model.state_dict().items()}


def write_gguf(template: Path, weights: dict[str, Any], out: Path, tensor_type: TensorType,
               provenance: str = "") -> None:
    """Write `weights` (transformers names) as a GGUF with `template`'s keys and tensor list."""
    import gguf
    import numpy as np
    from gguf.quants import quantize

    reader = gguf.GGUFReader(template)
    arch = reader.fields["general.architecture"].contents()
    if arch != "llama":
        raise SetupError(f"{template}: merging is written for llama models, not {arch!r}")
    heads = {"attn_q": reader.fields["llama.attention.head_count"].contents(),
             "attn_k": reader.fields["llama.attention.head_count_kv"].contents()}
    by_gguf = {gguf_name(name): w for name, w in weights.items()}
    writer = gguf.GGUFWriter(out, arch)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key == "general.architecture":
            continue  # the writer writes these itself
        value = _FILE_TYPE[tensor_type] if key == "general.file_type" else field.contents()
        sub_type = field.types[-1] if field.types[0] == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(key, value, field.types[0], sub_type)
    if provenance:
        writer.add_string("iacforge.merged_adapter", provenance)
    qtype = gguf.GGMLQuantizationType[tensor_type]
    for tensor in reader.tensors:
        if tensor.name not in by_gguf:
            raise SetupError(f"the merged model has no weight for {tensor.name}")
        weight = by_gguf.pop(tensor.name).astype(np.float32)
        kind = tensor.name.split(".")[-2]
        if kind in heads:
            weight = interleave_heads(weight, heads[kind])
        if weight.ndim == 1:
            writer.add_tensor(tensor.name, weight)
        elif tensor_type == "F16":
            writer.add_tensor(tensor.name, weight.astype(np.float16))
        else:
            writer.add_tensor(tensor.name, quantize(weight, qtype), raw_dtype=qtype)
    # tied embeddings: transformers lists lm_head, the GGUF reads token_embd in its place
    output = by_gguf.pop("output.weight", None)
    if output is not None and not np.array_equal(output, weights["model.embed_tokens.weight"]):
        raise SetupError(f"{template} ties the output to the embeddings; the merged model does not")
    extra = set(by_gguf)
    if extra:
        raise SetupError(f"the template {template} has no tensor for {sorted(extra)[:3]}")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
