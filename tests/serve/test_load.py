"""`iacforge serve` under 200 concurrent clients on loopback: every one gets an HTTP answer."""

from __future__ import annotations

import json
import socket
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from .conftest import serving

CLIENTS = 200
#: Cheap bodies: prose fails at extract, `locals {}` passes parse, the third is malformed JSON.
BODIES = [json.dumps({"candidates": [{"text": "I cannot help with that."}]}).encode(),
          json.dumps({"candidates": [{"files": {"main.tf": "locals {}\n"}}],
                      "stages": ["parse"]}).encode(),
          b'{"candidates": [']


@pytest.fixture
def server():
    with serving(queue=8) as running:
        yield running


def _exchange(address: tuple[str, int], request: bytes, start: threading.Barrier) -> str:
    """The status line and Retry-After of one raw HTTP exchange, or the error's class name."""
    start.wait()
    try:
        with socket.create_connection(address, timeout=30) as sock:
            sock.sendall(request)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    except OSError as exc:
        return type(exc).__name__
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = lines[0].split()[1] if lines[0].startswith("HTTP/1.") else f"garbled {lines[0]!r}"
    retry = any(line.lower().startswith("retry-after:") for line in lines[1:])
    json.loads(body)  # every answer is JSON, refusals included
    return f"{status} retry" if retry else status


def _burst(address: tuple[str, int]) -> dict[str, int]:
    """How many of CLIENTS clients, started at once, got each answer."""
    answers = _answers(address)
    return {a: answers.count(a) for a in set(answers)}


def _answers(address: tuple[str, int]) -> list[str]:
    """The answer of each of CLIENTS clients, started at once (client i sends BODIES[i % 3])."""
    requests = [b"POST /verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
                for body in (BODIES[i % len(BODIES)] for i in range(CLIENTS))]
    start = threading.Barrier(CLIENTS)
    with ThreadPoolExecutor(CLIENTS) as clients:
        return list(clients.map(lambda r: _exchange(address, r, start), requests))


def _health(address: tuple[str, int]) -> dict:
    with socket.create_connection(address, timeout=30) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        answer = sock.makefile("rb").read()
    assert answer.startswith(b"HTTP/1.0 200")
    return json.loads(answer.partition(b"\r\n\r\n")[2])


def test_200_concurrent_clients_each_get_an_answer_and_the_server_stays_up(server):
    answers = _answers(server.server_address)
    # no resets, no timeouts: a verdict, a 400 for the malformed body, or a 503 with Retry-After
    # (a full queue answers before it reads the body, so a malformed one may get a 503 too)
    wanted = [{"400", "503 retry"} if i % len(BODIES) == 2 else {"200", "503 retry"}
              for i in range(CLIENTS)]
    assert all(a in w for a, w in zip(answers, wanted, strict=True)), sorted(set(answers))
    assert "200" in answers and "400" in answers
    assert _health(server.server_address)["queue"]["in_flight"] == 0


def test_200_concurrent_clients_at_a_full_queue_each_get_a_503_with_retry_after(server):
    service = server.service
    for _ in range(service.queue):
        assert service.admit()
    try:
        counts = _burst(server.server_address)
    finally:
        for _ in range(service.queue):
            service.release()
    assert counts == {"503 retry": CLIENTS}
    assert _health(server.server_address)["queue"]["in_flight"] == 0
