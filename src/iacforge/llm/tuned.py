"""The `tuned` model: the embedded SmolLM2-135M with the LoRA adapter this project trained.

The adapter ships inside the package (`adapters/smollm2-135m-terraform/`: `adapter_config.json`,
`adapter_model.safetensors` in float16, and `README.md`, its model card saying how it was trained
and what it scores). `export_adapter` copies a training run's adapter there, so the same command
that trained it replaces it; `python -m iacforge.llm.tuned RUN_DIR` does that.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from iacforge.errors import SetupError

#: Where the shipped adapter lives (package data).
TUNED_ADAPTER = Path(__file__).parent / "adapters" / "smollm2-135m-terraform"
WEIGHTS = "adapter_model.safetensors"
CONFIG = "adapter_config.json"


def tuned_adapter() -> Path:
    """The shipped adapter's directory, or a SetupError when the package lacks it."""
    if not (TUNED_ADAPTER / WEIGHTS).is_file() or not (TUNED_ADAPTER / CONFIG).is_file():
        raise SetupError(f"the tuned adapter is missing from {TUNED_ADAPTER} (a broken install?); "
                         "use --model embedded for the base model")
    return TUNED_ADAPTER


def export_adapter(run_dir: str | Path, target: Path = TUNED_ADAPTER) -> Path:
    """Copy a run's LoRA adapter to `target`, weights cast to float16 (half the bytes; the
    adapter is loaded into the float32 model's LoRA layers, so nothing else changes)."""
    from safetensors.torch import load_file, save_file

    source = Path(run_dir)
    missing = [name for name in (WEIGHTS, CONFIG) if not (source / name).is_file()]
    if missing:
        raise SetupError(f"{source}: no {' or '.join(missing)} (not a LoRA run directory?)")
    config = json.loads((source / CONFIG).read_text())
    config["base_model_name_or_path"] = "SmolLM2-135M-Instruct"  # not the trainer's local path
    weights = {name: tensor.half().contiguous()
               for name, tensor in load_file(str(source / WEIGHTS)).items()}
    target.mkdir(parents=True, exist_ok=True)
    save_file(weights, str(target / WEIGHTS))
    (target / CONFIG).write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    return target


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m iacforge.llm.tuned RUN_DIR")
    print(export_adapter(sys.argv[1]))
