"""Model specs → backends: `load_backend("embedded")`, `"hf:DIR"`, `"openai:MODEL"`, ...

| spec | backend |
| --- | --- |
| `tuned` | the embedded model with the LoRA adapter iacforge trained (`DEFAULT_MODEL`) |
| `embedded` | the embedded SmolLM2-135M-Instruct, as it comes (the base training starts from) |
| `hf:PATH` or an existing `PATH` | a local model directory or `.gguf` file |
| `openai:MODEL` | an OpenAI-compatible server at `base_url` (or `IACFORGE_OPENAI_BASE_URL`) |
| `scripted:FILE.json` | replies replayed from a JSON list (tests, demos without a model) |

Local models run on transformers, or on llama.cpp with `BackendOptions(runtime="llama.cpp")`
(`embedded`, `tuned`, `embedded` with an adapter, or a `.gguf` path).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from iacforge.errors import ConfigError, IacforgeError
from iacforge.llm.base import Backend, Constrain

#: The model `iacforge generate` uses when none is named: the one setting to change when a
#: better default (say, one fine-tuned by this project) is available.
DEFAULT_MODEL = "tuned"
#: Schemes that are a whole spec on their own (no `:target`).
STANDALONE = ("embedded", "tuned")
#: Environment variables: the model spec, and the server for `openai:` specs.
MODEL_ENV = "IACFORGE_MODEL"
BASE_URL_ENV = "IACFORGE_OPENAI_BASE_URL"
#: What runs a local model: transformers (with the llguidance mask) or llama.cpp (a GGUF on an
#: in-process loopback server, grammars as GBNF; see llm.llamacpp).
Runtime = Literal["transformers", "llama.cpp"]
RUNTIMES: tuple[Runtime, ...] = ("transformers", "llama.cpp")


@dataclass(frozen=True)
class BackendOptions:
    """Options a spec alone does not carry; each backend reads the ones it knows."""

    adapter: str | None = None
    device: str | None = None
    batch_size: int = 8
    base_url: str | None = None
    api_key_env: str | None = None
    concurrency: int = 4
    timeout: float = 300.0
    #: `openai:` servers: `vllm` or `llama.cpp` (how a decoding grammar is sent).
    server: str = "vllm"
    #: Local models (`embedded`, `tuned`, a `.gguf` path): what runs them.
    runtime: Runtime = "transformers"

    def __post_init__(self) -> None:
        if self.runtime not in RUNTIMES:
            raise ConfigError(f"runtime must be one of {', '.join(RUNTIMES)}, "
                              f"not {self.runtime!r}")


Factory = Callable[[str, BackendOptions], Backend]
BACKENDS: dict[str, Factory] = {}


def register(scheme: str) -> Callable[[Factory], Factory]:
    """Register a factory for `scheme:...` specs; a scheme can be registered only once."""

    def add(factory: Factory) -> Factory:
        if scheme in BACKENDS:
            raise ValueError(f"backend scheme {scheme!r} is already registered")
        BACKENDS[scheme] = factory
        return factory

    return add


@register("hf")
def _hf(target: str, options: BackendOptions) -> Backend:
    if options.runtime == "llama.cpp":
        return _llama_cpp_file(target, options)
    from iacforge.llm.hf import HFBackend

    return HFBackend(target, adapter=options.adapter, device=options.device,
                     batch_size=options.batch_size)


@register("embedded")
def _embedded(target: str, options: BackendOptions) -> Backend:
    from iacforge.llm.embedded import embedded_model

    if target:
        raise IacforgeError(f"'embedded' takes no argument (got {target!r})")
    if options.runtime == "llama.cpp":
        from iacforge.llm.llamacpp import local_backend

        return local_backend(options.adapter, slots=options.concurrency, timeout=options.timeout)
    return _hf(str(embedded_model()), options)


def _llama_cpp_file(target: str, options: BackendOptions) -> Backend:
    """A `.gguf` file on llama.cpp, as it is (adapters are merged for the embedded model only)."""
    from iacforge.llm.llamacpp import LlamaCppBackend

    if not target.endswith(".gguf") or options.adapter:
        raise ConfigError("--runtime llama.cpp runs embedded, tuned, embedded --adapter DIR, "
                          f"or a .gguf file without an adapter, not {target!r}"
                          + (f" with --adapter {options.adapter}" if options.adapter else ""))
    return LlamaCppBackend(target, slots=options.concurrency, timeout=options.timeout)


@register("tuned")
def _tuned(target: str, options: BackendOptions) -> Backend:
    from iacforge.llm.tuned import tuned_adapter

    if target:
        raise IacforgeError(f"'tuned' takes no argument (got {target!r})")
    if options.adapter:
        raise IacforgeError("'tuned' already carries iacforge's adapter; for another adapter "
                            "use --model embedded --adapter DIR")
    return _embedded("", replace(options, adapter=str(tuned_adapter())))


@register("openai")
def _openai(target: str, options: BackendOptions) -> Backend:
    from iacforge.llm.openai import OpenAIBackend

    base_url = options.base_url or os.environ.get(BASE_URL_ENV)
    if not target or not base_url:
        raise IacforgeError(f"openai:MODEL needs a model name and a server: --base-url URL "
                            f"or {BASE_URL_ENV}")
    return OpenAIBackend(base_url, target, api_key_env=options.api_key_env,
                         concurrency=options.concurrency, timeout=options.timeout,
                         server=options.server)


@register("scripted")
def _scripted(target: str, options: BackendOptions) -> Backend:
    from iacforge.llm.scripted import ScriptedBackend

    return ScriptedBackend.from_file(target)


def default_constrain(spec: str | None) -> Constrain:
    """The decoding constraint a model spec gets when none is named: `schema` for local models
    (the mask runs here), `none` for servers and scripted replies."""
    scheme = (spec or default_model()).partition(":")[0]
    return "none" if scheme in ("openai", "scripted") else "schema"


def default_model() -> str:
    """The model spec to use when none is given: `IACFORGE_MODEL`, else `DEFAULT_MODEL`."""
    return os.environ.get(MODEL_ENV) or DEFAULT_MODEL


def load_backend(spec: str | None = None, options: BackendOptions | None = None) -> Backend:
    """The backend a model spec names (see the module docstring); None means the default."""
    spec = spec or default_model()
    options = options or BackendOptions()
    scheme, sep, target = spec.partition(":")
    if options.runtime != "transformers" and scheme in ("openai", "scripted") and sep:
        raise ConfigError(f"--runtime {options.runtime} runs local models; {scheme}: specs "
                          "run elsewhere (for an openai: llama.cpp server use --server llama.cpp)")
    if scheme in BACKENDS and (sep or scheme in STANDALONE):
        return BACKENDS[scheme](target, options)
    if Path(spec).expanduser().exists():
        return BACKENDS["hf"](spec, options)
    close = difflib.get_close_matches(scheme, BACKENDS, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise IacforgeError(f"unknown model {spec!r}{hint}: use tuned, embedded, hf:PATH, "
                        "openai:MODEL, scripted:FILE.json, or the path of a local model")
