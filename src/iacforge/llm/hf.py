"""A local Hugging Face causal LM as a backend: a model directory, a GGUF file, or the embedded one.

Needs the `[llm]` extra (torch, transformers, gguf; peft for adapters). Nothing is ever fetched
from a hub: `HF_HUB_OFFLINE=1` is set before transformers is imported.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path
from typing import Any

from iacforge.errors import SetupError
from iacforge.llm.base import Messages, Sampling


class HFBackend:
    """Sample completions from a local model with transformers: batched, left-padded.

    >>> from iacforge.llm.embedded import embedded_gguf      # doctest: +SKIP
    >>> backend = HFBackend(embedded_gguf())                  # doctest: +SKIP
    >>> backend.generate([[{"role": "user", "content": "Hi"}]], 2, Sampling(max_new_tokens=8))
    ... # doctest: +SKIP
    [['Hello! How can I help', 'Hi there!']]

    Args:
        model: a model directory, a `.gguf` file, or a directory holding exactly one `.gguf`.
        adapter: a LoRA adapter directory (needs peft).
        device: `cpu`, `cuda`, ...; default the GPU when there is one, else the CPU.
        batch_size: sequences generated together; prompts × n are split into batches this big.
    """

    def __init__(self, model: str | Path, *, adapter: str | Path | None = None,
                 device: str | None = None, batch_size: int = 8) -> None:
        directory, gguf_file = _locate(Path(model).expanduser())
        os.environ["HF_HUB_OFFLINE"] = "1"
        torch, transformers = _import_llm()
        self._torch = torch
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.batch_size = max(1, batch_size)
        kwargs: dict[str, Any] = {"local_files_only": True}
        if gguf_file:
            kwargs["gguf_file"] = gguf_file
        dtype = torch.float32 if self.device == "cpu" else torch.bfloat16
        # the GGUF loader draws a tqdm bar on stderr that no setting turns off
        with contextlib.redirect_stderr(io.StringIO()):
            self.tokenizer = transformers.AutoTokenizer.from_pretrained(directory, **kwargs)
            self.model = transformers.AutoModelForCausalLM.from_pretrained(
                directory, dtype=dtype, **kwargs)
        quantizer = getattr(self.model, "hf_quantizer", None)
        if gguf_file and quantizer is not None:
            # the weights were de-quantized on load: what is in memory is a plain model, and
            # peft, saving and training refuse a model that still claims a quantizer
            quantizer.remove_quantization_config(self.model)
        if adapter is not None:
            self.model = _with_adapter(self.model, Path(adapter).expanduser())
        self.model.to(self.device).eval()
        if self.tokenizer.chat_template is None:
            raise SetupError(f"{model}: the tokenizer has no chat template")
        self.tokenizer.padding_side = "left"  # decoder-only: new tokens follow the prompt
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.name = str(model)
        self._constraint: Any = None
        #: Seconds spent computing grammar masks, over all calls (for benchmarks).
        self.mask_seconds = 0.0
        #: `reject` mode, over all calls: samples stopped at a forbidden token, and samples
        #: that used up their tries and were drawn with the mask.
        self.rejections = 0
        self.masked = 0

    def generate(self, prompts: list[Messages], n: int, sampling: Sampling) -> list[list[str]]:
        texts = [self.tokenizer.apply_chat_template(p, tokenize=False, add_generation_prompt=True)
                 for p in prompts]
        grammars = [self._grammar(p, sampling) for p in prompts]
        # greedy decoding gives every sample the same text: decode once, copy n times
        per_prompt = 1 if sampling.greedy else n
        expanded = [(t, g) for t, g in zip(texts, grammars, strict=True) for _ in range(per_prompt)]
        if sampling.seed is not None:
            self._torch.manual_seed(sampling.seed)
        outputs: list[str] = []
        for start in range(0, len(expanded), self.batch_size):
            outputs += self._batch(expanded[start : start + self.batch_size], sampling)
        grouped = [outputs[i * per_prompt : (i + 1) * per_prompt] for i in range(len(prompts))]
        return [g * n if sampling.greedy else g for g in grouped]

    def _grammar(self, prompt: Messages, sampling: Sampling) -> str | None:
        """The grammar a reply to `prompt` must follow (local models default to `schema`)."""
        from iacforge.constrain.grammar import prompt_grammar

        return prompt_grammar(prompt, sampling.constrain or "schema")

    def _batch(self, rows: list[tuple[str, str | None]], sampling: Sampling) -> list[str]:
        if sampling.constrain_mode == "mask" or all(g is None for _, g in rows):
            return self._run(rows, sampling)[0]
        from iacforge.constrain.rejection import TRIES, Explored

        # one prefix trie per prompt: what one sample learns, the next need not try
        roots: dict[tuple[str, str | None], Explored] = {}
        texts: list[str] = [""] * len(rows)
        pending = list(range(len(rows)))
        for attempt in range(TRIES):
            last = attempt == TRIES - 1  # the last try is masked: every sample gets a reply
            explored = None if last else [
                roots.setdefault(rows[i], Explored()) if rows[i][1] else None for i in pending]
            replies, processor = self._run([rows[i] for i in pending], sampling, explored)
            rejected = processor.rejected if processor and not last else [False] * len(pending)
            self.rejections += sum(rejected)
            self.masked += len(pending) if last else 0
            for i, reply in zip(pending, replies, strict=True):
                texts[i] = reply
            pending = [i for i, again in zip(pending, rejected, strict=True) if again]
            if not pending:
                break
        return texts

    def _run(self, rows: list[tuple[str, str | None]], sampling: Sampling,
             explored: list[Any] | None = None) -> tuple[list[str], Any]:
        """One `generate` call: the replies, and the grammar processor (None without one)."""
        # the chat template already wrote every special token the model expects
        enc = self.tokenizer([t for t, _ in rows], return_tensors="pt", padding=True,
                             add_special_tokens=False)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        from iacforge.constrain.processor import Constraint, generate_options

        grammars = [g for _, g in rows]
        if self._constraint is None and any(g is not None for g in grammars):
            self._constraint = Constraint(self.tokenizer)
        options, processor = generate_options(self._constraint, grammars, sampling, explored,
                                              self.tokenizer.eos_token_id)
        with self._torch.inference_mode():
            out = self.model.generate(**enc, **options, max_new_tokens=sampling.max_new_tokens,
                                      pad_token_id=self.tokenizer.pad_token_id)
        if processor is not None:
            self.mask_seconds += processor.mask_seconds
        new = out[:, enc["input_ids"].shape[1] :]
        return self.tokenizer.batch_decode(new, skip_special_tokens=True), processor


def _import_llm() -> tuple[Any, Any]:
    try:
        import torch
        import transformers
    except ImportError as exc:
        raise SetupError(f"the local model backend needs the [llm] extra ({exc.name} is "
                         "missing): pip install 'iacforge[llm]'") from None
    transformers.utils.logging.disable_progress_bar()
    transformers.utils.logging.set_verbosity_error()
    return torch, transformers


def _locate(path: Path) -> tuple[Path, str | None]:
    """(directory, GGUF file name or None) for a model path."""
    if path.is_file() and path.suffix == ".gguf":
        return path.parent, path.name
    if not path.is_dir():
        raise SetupError(f"model {path} is neither a directory nor a .gguf file")
    if (path / "config.json").is_file():
        return path, None
    ggufs = sorted(p.name for p in path.glob("*.gguf"))
    if len(ggufs) != 1:
        raise SetupError(f"model directory {path} has no config.json and "
                         f"{len(ggufs)} .gguf files; name the file to load")
    return path, ggufs[0]


def _with_adapter(model: Any, adapter: Path) -> Any:
    try:
        from peft import PeftModel
    except ImportError:
        raise SetupError("LoRA adapters need peft: pip install 'iacforge[llm]'") from None
    if not adapter.is_dir():
        raise SetupError(f"adapter {adapter} is not a directory")
    return PeftModel.from_pretrained(model, str(adapter))
