"""Local models on llama.cpp: an in-process xllamacpp server on loopback, spoken to as `openai:`.

`--runtime llama.cpp` serves `embedded`, `tuned` and `embedded --adapter DIR` from a GGUF (the
adapter merged in by `gguf_export`), on 127.0.0.1 at a port the system picks, and sends requests
through the `openai:` backend, a grammar as GBNF. The server starts once per backend and stops
when the backend is closed, freed, or the interpreter exits (xllamacpp stops it when its
`Server` object is freed; it has no stop method).

>>> backend = LlamaCppBackend(embedded_gguf())                      # doctest: +SKIP
>>> backend.generate([[{"role": "user", "content": "Hi"}]], 1, Sampling(max_new_tokens=8))
... # doctest: +SKIP
[['resource "aws_s3_bucket" "b" {']]
"""

from __future__ import annotations

import os
import weakref
from dataclasses import replace
from pathlib import Path
from typing import Any

from iacforge.errors import ConfigError, SetupError
from iacforge.llm.base import Messages, Sampling
from iacforge.llm.openai import OpenAIBackend

#: Context tokens per parallel request (prompt and reply together).
SLOT_CONTEXT = 4096


class LlamaCppBackend:
    """Generate with a GGUF model on an in-process llama.cpp server bound to 127.0.0.1.

    Args:
        gguf: the model file.
        slots: requests decoded together (llama.cpp batches them).
        threads: CPU threads; default `OMP_NUM_THREADS`, else every core.
        timeout: seconds one request may take.
    """

    def __init__(self, gguf: str | Path, *, slots: int = 4, threads: int | None = None,
                 timeout: float = 300.0) -> None:
        try:
            import xllamacpp
        except ImportError:
            raise SetupError("--runtime llama.cpp needs xllamacpp: pip install "
                             "'iacforge[dev]' (or pip install xllamacpp)") from None
        path = Path(gguf).expanduser()
        if not path.is_file():
            raise SetupError(f"model {path} is not a GGUF file")
        threads = threads or int(os.environ.get("OMP_NUM_THREADS") or os.cpu_count() or 1)
        params = xllamacpp.CommonParams()
        params.model.path = str(path)
        params.n_parallel = self.slots = max(1, slots)
        params.n_ctx = SLOT_CONTEXT * params.n_parallel
        params.cpuparams.n_threads = params.cpuparams_batch.n_threads = threads
        params.hostnames, params.port = ["127.0.0.1"], 0  # loopback only, a free port
        params.verbosity = 0
        # the one reference to the server: freeing it (close, garbage, exit) stops the server
        self._servers: list[Any] = [xllamacpp.Server(params)]
        self._finalizer = weakref.finalize(self, self._servers.clear)
        address = self._servers[0].listening_address
        if not address.startswith("http://127.0.0.1:"):
            self.close()
            raise SetupError(f"the llama.cpp server listens on {address}, not on 127.0.0.1")
        _wait_until_serving(address, timeout)
        self.client = OpenAIBackend(address + "/v1", path.stem, timeout=timeout,
                                    concurrency=params.n_parallel, server="llama.cpp")
        self.name = f"llama.cpp:{path}"

    def generate(self, prompts: list[Messages], n: int, sampling: Sampling) -> list[list[str]]:
        if not self._servers:
            raise SetupError("the llama.cpp server of this backend was closed")
        if sampling.constrain_mode == "reject":
            raise ConfigError("--constrain-mode reject runs on --runtime transformers only")
        # local models default to the schema, as with transformers
        sampling = replace(sampling, constrain=sampling.constrain or "schema")
        if sampling.greedy:  # every sample is the same text: decode once
            return [texts * n for texts in self.client.generate(prompts, 1, sampling)]
        # the server takes at most one choice per slot in a request, and gives every choice of
        # a seeded request the same text: seeded samples are asked one per request, seed + i
        step = self.slots if sampling.seed is None else 1
        texts: list[list[str]] = [[] for _ in prompts]
        while len(texts[0]) < n:
            done = len(texts[0])
            seeded = sampling if sampling.seed is None else replace(sampling,
                                                                    seed=sampling.seed + done)
            for out, more in zip(texts, self.client.generate(
                    prompts, min(step, n - done), seeded), strict=True):
                out += more
        return texts

    def close(self) -> None:
        """Stop the server (idempotent)."""
        self._finalizer()

    def __enter__(self) -> LlamaCppBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _wait_until_serving(address: str, timeout: float) -> None:
    """Return once the server answers `/health`: freeing a server whose HTTP loop has not
    started yet can hang for ever in its destructor (seen once in the suite)."""
    import time
    import urllib.error
    import urllib.request

    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback, no proxy
    deadline = time.monotonic() + timeout
    while True:
        try:
            with direct.open(address + "/health", timeout=5) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        if time.monotonic() > deadline:
            raise SetupError(f"the llama.cpp server at {address} did not start in {timeout:.0f} s")
        time.sleep(0.05)


def local_backend(adapter: str | Path | None, *, slots: int = 4,
                  timeout: float = 300.0) -> LlamaCppBackend:
    """The embedded model (with `adapter` merged in, when given) on llama.cpp."""
    from iacforge.llm.gguf_export import merged_gguf

    return LlamaCppBackend(merged_gguf(adapter), slots=slots, timeout=timeout)
