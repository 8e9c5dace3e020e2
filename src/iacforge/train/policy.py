"""The model being trained: loading it (embedded, a directory or a GGUF), LoRA, and sampling it.

`load_policy` reuses the generate backend's loader (`HFBackend`), so training starts from exactly
the weights `iacforge generate` samples: the embedded model, a model directory, or a GGUF file
(de-quantized on load). An existing LoRA adapter is loaded trainable, so GRPO or multi-turn RL
after SFT keep training the SFT adapter and the result still applies to the base model.
`PolicySampler` is the `Backend` protocol over the live model, for the multi-turn rollouts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from iacforge.errors import SetupError
from iacforge.llm.base import Messages, Sampling

#: The linear layers of a Llama block: LoRA on all of them learns most per parameter.
LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


@dataclass(frozen=True)
class LoraSettings:
    """LoRA's shape; `rank=0` means full fine-tuning."""

    rank: int = 8
    alpha: int = 16
    dropout: float = 0.05

    def peft_config(self) -> Any:
        """The peft `LoraConfig`, or None for full fine-tuning."""
        if self.rank <= 0:
            return None
        from peft import LoraConfig

        return LoraConfig(r=self.rank, lora_alpha=self.alpha, lora_dropout=self.dropout,
                          target_modules=list(LORA_TARGETS), task_type="CAUSAL_LM")

    @classmethod
    def of_adapter(cls, adapter: str | Path) -> LoraSettings:
        """The shape of a saved LoRA adapter (its `adapter_config.json`): what a run that keeps
        training it trains, whatever its own `lora` says."""
        path = Path(adapter).expanduser() / "adapter_config.json"
        try:
            config = json.loads(path.read_text())
            return cls(rank=int(config["r"]), alpha=int(config["lora_alpha"]),
                       dropout=float(config.get("lora_dropout", 0.0)))
        except (OSError, ValueError, KeyError, TypeError) as err:
            raise SetupError(f"adapter {adapter}: cannot read its LoRA shape from {path} "
                             f"({err})") from None


def model_path(spec: str | None) -> Path:
    """The local model a spec names: `embedded` (default), `hf:PATH` or a path."""
    from iacforge.llm.embedded import embedded_model

    if spec in (None, "", "embedded"):
        return embedded_model()
    path = Path(spec.removeprefix("hf:")).expanduser()
    if not path.exists():
        raise SetupError(f"model {spec}: no such directory or file (training needs a local "
                         "model: embedded, hf:PATH or a path)")
    return path


def load_policy(spec: str | None = None, *, adapter: str | Path | None = None) -> tuple[Any, Any]:
    """(model, tokenizer) in training mode on the CPU or GPU; pad token = eos."""
    from iacforge.llm.hf import HFBackend

    backend = HFBackend(model_path(spec))
    model, tokenizer = backend.model, backend.tokenizer
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(Path(adapter).expanduser()),
                                          is_trainable=True)
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    model.config.pad_token_id = tokenizer.pad_token_id
    model.train()
    return model, tokenizer


class PolicySampler:
    """Sample the live model through the `Backend` protocol (left-padded batches, no grad)."""

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 8) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self._constraint: Any = None

    def generate(self, prompts: list[Messages], n: int, sampling: Sampling) -> list[list[str]]:
        import torch

        from iacforge.constrain.processor import generate_options

        texts = [self.tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                 for p in prompts]
        expanded = [t for t in texts for _ in range(n)]
        grammars = self._grammars(prompts, sampling)
        grammars = [g for g in grammars for _ in range(n)]
        if sampling.seed is not None:
            torch.manual_seed(sampling.seed)
        was_training = self.model.training
        self.model.eval()
        self.tokenizer.padding_side = "left"
        outputs: list[str] = []
        try:
            for start in range(0, len(expanded), self.batch_size):
                batch = self.tokenizer(expanded[start:start + self.batch_size], return_tensors="pt",
                                       padding=True, add_special_tokens=False)
                batch = {k: v.to(self.model.device) for k, v in batch.items()}
                options, _ = generate_options(self._constraint,
                                              grammars[start:start + self.batch_size], sampling)
                with torch.inference_mode():
                    out = self.model.generate(
                        **batch, **options, max_new_tokens=sampling.max_new_tokens,
                        pad_token_id=self.tokenizer.pad_token_id)
                new = out[:, batch["input_ids"].shape[1]:]
                outputs += self.tokenizer.batch_decode(new, skip_special_tokens=True)
        finally:
            self.model.train(was_training)
        return [outputs[i * n:(i + 1) * n] for i in range(len(prompts))]

    def _grammars(self, prompts: list[Messages], sampling: Sampling) -> list[str | None]:
        """Each prompt's decoding grammar: none unless `sampling.constrain` names one (masked;
        the rollouts' log-probs are then those of the masked policy's draws)."""
        if sampling.constrain in (None, "none"):
            return [None] * len(prompts)
        from iacforge.constrain.grammar import prompt_grammar
        from iacforge.constrain.processor import Constraint

        if self._constraint is None:
            self._constraint = Constraint(self.tokenizer)
        return [prompt_grammar(p, sampling.constrain) for p in prompts]
