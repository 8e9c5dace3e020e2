"""The OpenAI-compatible backend against a small chat-completions server on loopback: request
shape, the API key, fewer choices than asked, retries with backoff, errors, concurrency."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from iacforge.errors import IacforgeError, SetupError
from iacforge.llm import Sampling
from iacforge.llm.openai import OpenAIBackend

HI = [{"role": "user", "content": "hi"}]


class Server(ThreadingHTTPServer):
    """Answers `/v1/chat/completions`; `failures` holds statuses to send before answering."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[dict, dict]] = []
        self.failures: list[int] = []
        self.max_choices = 100
        self.delay = 0.0
        self.in_flight = self.peak = 0
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        srv = self.server
        with srv.lock:
            srv.requests.append((body, dict(self.headers)))
            failure = srv.failures.pop(0) if srv.failures else None
            srv.in_flight += 1
            srv.peak = max(srv.peak, srv.in_flight)
        time.sleep(srv.delay)
        with srv.lock:
            srv.in_flight -= 1
        if self.path != "/v1/chat/completions":
            return self._send(404, {"error": "not found"})
        if failure:
            return self._send(failure, {"error": {"message": f"status {failure}"}})
        last = body["messages"][-1]["content"]
        choices = [{"index": i, "message": {"role": "assistant", "content": f"{last}#{i}"}}
                   for i in range(min(body["n"], srv.max_choices))]
        self._send(200, {"choices": choices})

    def _send(self, status: int, data: dict) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if status == 429:
            self.send_header("Retry-After", "0")
        self.end_headers()
        self.wfile.write(payload)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_n_completions_per_prompt_in_prompt_order(server):
    backend = OpenAIBackend(server.url, "smol")
    prompts = [[{"role": "user", "content": "a"}], [{"role": "user", "content": "b"}]]
    out = backend.generate(prompts, 2, Sampling(max_new_tokens=16, temperature=0.5, seed=3))
    assert out == [["a#0", "a#1"], ["b#0", "b#1"]]
    body, headers = server.requests[0]
    assert {k: body[k] for k in ("model", "n", "max_tokens", "temperature", "seed")} == {
        "model": "smol", "n": 2, "max_tokens": 16, "temperature": 0.5, "seed": 3}
    assert "Authorization" not in headers


def test_the_api_key_comes_from_the_named_variable(server, monkeypatch):
    monkeypatch.setenv("MY_KEY", "sekret")
    OpenAIBackend(server.url, "smol", api_key_env="MY_KEY").generate([HI], 1, Sampling())
    assert server.requests[0][1]["Authorization"] == "Bearer sekret"
    monkeypatch.delenv("MY_KEY")
    with pytest.raises(SetupError, match="MY_KEY"):
        OpenAIBackend(server.url, "smol", api_key_env="MY_KEY")


def test_a_server_that_ignores_n_is_asked_again_with_a_new_seed(server):
    server.max_choices = 1
    out = OpenAIBackend(server.url, "smol").generate([HI], 3, Sampling(seed=10))
    assert out == [["hi#0", "hi#0", "hi#0"]]
    assert [(b["n"], b["seed"]) for b, _ in server.requests] == [(3, 10), (2, 11), (1, 12)]


def test_overload_and_server_errors_are_retried(server):
    server.failures = [503, 429, 500]
    backend = OpenAIBackend(server.url, "smol", retries=3, backoff=0.01)
    assert backend.generate([HI], 1, Sampling()) == [["hi#0"]]
    assert len(server.requests) == 4


def test_retries_run_out_with_the_servers_message(server):
    server.failures = [503] * 3
    with pytest.raises(IacforgeError, match=r"HTTP 503: .*status 503"):
        OpenAIBackend(server.url, "smol", retries=2, backoff=0.01).generate([HI], 1, Sampling())
    assert len(server.requests) == 3


def test_a_client_error_is_not_retried(server):
    server.failures = [400]
    with pytest.raises(IacforgeError, match="HTTP 400"):
        OpenAIBackend(server.url, "smol", backoff=0.01).generate([HI], 1, Sampling())
    assert len(server.requests) == 1


def test_a_slow_server_times_out_and_is_retried(server):
    server.delay = 0.5
    backend = OpenAIBackend(server.url, "smol", timeout=0.1, retries=1, backoff=0.01)
    with pytest.raises(IacforgeError, match="after 2 tries"):
        backend.generate([HI], 1, Sampling())


def test_no_server_is_a_clear_error():
    backend = OpenAIBackend("http://127.0.0.1:9/v1", "smol", retries=1, backoff=0.01)
    with pytest.raises(IacforgeError, match=r"127\.0\.0\.1:9"):
        backend.generate([HI], 1, Sampling())


def test_requests_in_flight_stay_under_the_concurrency_limit(server):
    server.delay = 0.1
    prompts = [[{"role": "user", "content": str(i)}] for i in range(6)]
    out = OpenAIBackend(server.url, "smol", concurrency=2).generate(prompts, 1, Sampling())
    assert [texts[0] for texts in out] == [f"{i}#0" for i in range(6)]
    assert server.peak == 2


def test_a_constraint_is_sent_as_a_vllm_structured_output_grammar(server):
    backend = OpenAIBackend(server.url, "smol")
    backend.generate([HI], 1, Sampling())  # servers are unconstrained unless asked
    backend.generate([HI], 1, Sampling(constrain="syntax"))
    backend.generate([[{"role": "user", "content": "An SQS queue."}]], 1,
                     Sampling(constrain="schema"))
    bodies = [body for body, _ in server.requests]
    assert "structured_outputs" not in bodies[0]
    assert bodies[1]["structured_outputs"]["grammar"].startswith("// The HCL a reply may hold")
    schema = bodies[2]["structured_outputs"]["grammar"]
    assert '"\\"aws_sqs_queue\\""' in schema and '"\\"aws_instance\\""' not in schema


def test_a_llama_cpp_server_gets_the_constraint_as_gbnf(server):
    backend = OpenAIBackend(server.url, "smol", server="llama.cpp")
    backend.generate([[{"role": "user", "content": "An SQS queue."}]], 1,
                     Sampling(constrain="schema"))
    body = server.requests[0][0]
    assert "structured_outputs" not in body
    assert body["grammar"].startswith("root ::= reply gap\n")
    assert 'r-aws-sqs-queue ::= gap "\\x22aws_sqs_queue\\x22"' in body["grammar"]
    with pytest.raises(SetupError, match=r"llama\.cpp"):
        OpenAIBackend(server.url, "smol", server="ollama")
