"""Any OpenAI-compatible chat-completions server as a backend (vLLM, Ollama, TGI, gateways).

Plain `urllib`: no client library. Prompts run concurrently up to a limit; each request has a
timeout and is retried with exponential backoff on connection errors, 408, 409, 429 and 5xx.
Servers that return fewer than `n` choices (some ignore `n`) are asked again for the rest.
"""

from __future__ import annotations

import functools
import json
import os
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from iacforge.errors import IacforgeError, SetupError
from iacforge.llm.base import Messages, Sampling

_RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
#: Longest wait between two tries, whatever the backoff or a Retry-After header says.
MAX_WAIT = 60.0
#: Servers whose grammar field the backend knows.
SERVERS = ("vllm", "llama.cpp")


class OpenAIBackend:
    """Chat completions from `{base_url}/chat/completions`.

    >>> backend = OpenAIBackend("http://127.0.0.1:8000/v1", "smollm2")   # doctest: +SKIP
    >>> backend.generate([[{"role": "user", "content": "Hi"}]], 1, Sampling())  # doctest: +SKIP
    [['Hello!']]

    Args:
        base_url: the API root, including its version path (`http://host:8000/v1`).
        model: the model name the server knows.
        api_key_env: the environment variable holding the API key; None sends no key.
        timeout: seconds one request may take.
        retries: further tries after a failed request.
        backoff: seconds before the first retry, doubled for each next one.
        concurrency: requests in flight at once.
        server: how the server takes a decoding grammar: `vllm` (structured outputs, llguidance
            Lark) or `llama.cpp` (`grammar`, GBNF from `constrain.gbnf`).
    """

    def __init__(self, base_url: str, model: str, *, api_key_env: str | None = None,
                 timeout: float = 300.0, retries: int = 4, backoff: float = 1.0,
                 concurrency: int = 4, server: str = "vllm") -> None:
        if server not in SERVERS:
            raise SetupError(f"server must be one of {', '.join(SERVERS)}, not {server!r}")
        self.server = server
        self.url = base_url.rstrip("/") + "/chat/completions"
        self.model = model
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.concurrency = max(1, concurrency)
        self._key = None
        if api_key_env:
            self._key = os.environ.get(api_key_env)
            if not self._key:
                raise SetupError(f"the API key variable {api_key_env} is not set")
        self.name = f"{model}@{base_url}"

    def generate(self, prompts: list[Messages], n: int, sampling: Sampling) -> list[list[str]]:
        with ThreadPoolExecutor(max_workers=min(self.concurrency, max(1, len(prompts)))) as pool:
            return list(pool.map(lambda p: self._complete(p, n, sampling), prompts))

    def _complete(self, prompt: Messages, n: int, sampling: Sampling) -> list[str]:
        texts: list[str] = []
        while len(texts) < n:
            body: dict[str, Any] = {
                "model": self.model, "messages": prompt, "n": n - len(texts),
                "max_tokens": sampling.max_new_tokens, "temperature": sampling.temperature,
                "top_p": sampling.top_p,
            }
            grammar = _grammar(prompt, sampling)
            if grammar is not None and self.server == "llama.cpp":
                body["grammar"] = _gbnf(grammar)
            elif grammar is not None:
                # vLLM's structured outputs (>= 0.10.2, guidance backend: llguidance's Lark)
                body["structured_outputs"] = {"grammar": grammar}
            if sampling.seed is not None:
                # a server that ignores n is asked again: a new seed keeps the texts apart
                body["seed"] = sampling.seed + len(texts)
            choices = self._post(body).get("choices") or []
            if not choices:
                raise IacforgeError(f"{self.url} returned no choices")
            texts += [(c.get("message") or {}).get("content") or "" for c in choices]
        return texts[:n]

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        data = json.dumps(body).encode()
        for attempt in range(self.retries + 1):
            request = urllib.request.Request(self.url, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    return json.loads(response.read())
            except urllib.error.HTTPError as exc:
                detail = exc.read().decode(errors="replace")[:500]
                if exc.code not in _RETRY_STATUS or attempt == self.retries:
                    raise IacforgeError(f"{self.url}: HTTP {exc.code}: {detail}") from None
                wait = _retry_after(exc.headers.get("Retry-After"))
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if attempt == self.retries:
                    reason = getattr(exc, "reason", exc)
                    raise IacforgeError(f"{self.url}: {reason} (after "
                                        f"{self.retries + 1} tries)") from None
                wait = None
            except json.JSONDecodeError:
                raise IacforgeError(f"{self.url}: the reply is not JSON") from None
            time.sleep(min(MAX_WAIT, wait if wait is not None else self.backoff * 2**attempt))
        raise AssertionError("unreachable")


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _grammar(prompt: Messages, sampling: Sampling) -> str | None:
    """The grammar to ask the server for: only when `sampling.constrain` names one (a server
    may not enforce grammars, so servers default to none)."""
    if sampling.constrain in (None, "none"):
        return None
    from iacforge.constrain.grammar import grammar_for

    text = "\n".join(m["content"] for m in prompt if m["role"] != "system")
    return grammar_for(sampling.constrain, text)


@functools.lru_cache(maxsize=32)
def _gbnf(grammar: str) -> str:
    from iacforge.constrain.gbnf import to_gbnf

    return to_gbnf(grammar)
