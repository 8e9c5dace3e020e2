"""`iacforge serve` over real HTTP on loopback: answers, refusals, a client that leaves, SIGTERM."""

from __future__ import annotations

import http.client
import json
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from iacforge.errors import SetupError

from .conftest import serving

FIXTURES = Path(__file__).parents[1] / "fixtures"
TASK = FIXTURES / "tasks/vpc_two_subnets_in_two_azs"
PINNED = ('terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
          '      version = "~> 5.0"\n    }\n  }\n}\n')
BUCKET = PINNED + 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'
TYPO = PINNED + 'resource "aws_s3_bucket" "logs" {\n  buckt = "logs"\n}\n'
LOCALS = {"files": {"main.tf": "locals {}\n"}}


@pytest.fixture(scope="module")
def server():
    with serving(queue=2, max_body=64 << 10) as running:
        yield running


def call(url: str, method: str = "GET", path: str = "/health", body: Any = None,
         timeout: float = 300) -> tuple[int, dict[str, str], Any]:
    """(status, headers, decoded JSON) of one request; `body` is sent as is when bytes."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
    conn.request(method, path, body=data, headers={"Content-Type": "application/json"})
    response = conn.getresponse()
    answer = response.status, dict(response.getheaders()), json.loads(response.read())
    conn.close()
    return answer


def verify(url: str, body: Any, timeout: float = 300) -> tuple[int, Any]:
    status, _, payload = call(url, "POST", "/verify", body, timeout)
    return status, payload


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_health_reports_workers_and_queue(server):
    status, _, body = call(server.url)
    assert status == 200
    assert body["status"] == "ok"
    assert body["workers"] == 2
    assert body["queue"] == {"limit": 2, "in_flight": 0}


@pytest.mark.slow
def test_a_batch_is_answered_in_order_with_certificates_and_rewards(server):
    reply = f"Here you go:\n\n```hcl\n{TYPO}```\n"
    status, body = verify(server.url, {"candidates": [
        {"files": {"main.tf": BUCKET}}, {"text": reply}, {"text": "I cannot help with that."},
        {"files": {"main.tf": "locals {\n"}}], "intent": None, "stages": ["validate"]})
    assert status == 200
    results = body["results"]
    certs = [r["certificate"] for r in results]
    assert [c["source"] for c in certs] == [f"candidates[{i}]" for i in range(4)]
    assert [c["status"] for c in certs] == ["pass", "fail", "fail", "fail"]
    failed = [next(s["stage"] for s in c["stages"] if s["status"] == "fail") for c in certs[1:]]
    assert failed == ["validate", "extract", "parse"]
    assert [r["reward"] for r in results] == [0.5, 0.0, 0.0, 0.0]


def test_a_batch_mixing_candidates_with_and_without_an_intent_answers_every_one(server):
    policy = ("package p\n\ndefault is_valid = false\n\n"
              "is_valid { count(input.planned_values) > 0 }\n")
    status, body = verify(server.url, {"candidates": [
        {"files": {"main.tf": BUCKET}}, {"files": {"main.tf": BUCKET}, "intent": None}],
        "intent": policy, "stages": ["validate", "plan", "intent"]})
    assert status == 200, body
    certs = [r["certificate"] for r in body["results"]]
    assert [[s["stage"] for s in c["stages"]][-2:] for c in certs] == [
        ["plan", "intent"], ["validate", "plan"]]
    assert [c["status"] for c in certs] == ["pass", "pass"]
    assert [r["reward"] for r in body["results"]] == [2.0, 1.0]  # intent adds its share


def test_fail_on_decides_whether_checkov_findings_fail_the_status_never_the_reward(server):
    body = {"candidates": [{"files": {"main.tf": BUCKET}}], "stages": ["parse", "security"]}
    answers = [verify(server.url, body | extra)[1]["results"][0]
               for extra in ({}, {"fail_on": ["security"]})]
    certs = [a["certificate"] for a in answers]
    assert [c["status"] for c in certs] == ["pass", "fail"]
    assert [c["fail_on"] for c in certs] == [[], ["security"]]
    assert all(c["stages"][-1]["status"] == "fail" for c in certs)  # findings shown either way
    assert answers[0]["reward"] == answers[1]["reward"]


@pytest.mark.parametrize("body", [b'{"candidates": [', b"\xff\xfe not utf-8", b""])
def test_malformed_json_is_a_400_that_says_so(server, body):
    status, payload = verify(server.url, body)
    assert status == 400
    assert payload["error"]["status"] == 400
    assert payload["error"]["message"].startswith("malformed JSON: ")


@pytest.mark.parametrize(("body", "message"), [
    ([LOCALS], "must be a JSON object"),
    ({"candidates": []}, "'candidates' must be a non-empty list"),
    ({"candidates": [LOCALS], "stage": ["parse"]}, "unknown field(s) stage"),
    ({"candidates": [{"files": {"main.tf": 1}}]}, "candidates[0].files must be an object"),
    ({"candidates": [LOCALS, {"text": "x", "files": {}}]}, "candidates[1] must have exactly one"),
    ({"candidates": [{"text": 3}]}, "candidates[0].text must be a string"),
    ({"candidates": [LOCALS], "intent": 5}, "'intent' must be Rego policy text or null"),
    ({"candidates": [LOCALS], "stages": ["parse", "nope"]}, "unknown stage(s) nope"),
    ({"candidates": [LOCALS], "stages": ["intent"]}, "stage 'intent' needs an intent policy"),
    ({"candidates": [LOCALS], "fail_on": ["secrity"]}, "choose from security, lint"),
    ({"candidates": [LOCALS], "fail_on": "security"}, "'fail_on' must be a list"),
])
def test_a_body_of_the_wrong_shape_is_a_422_naming_the_field(server, body, message):
    status, payload = verify(server.url, body)
    assert status == 422
    assert message in payload["error"]["message"]


def test_a_body_over_the_limit_is_a_413(server):
    big = {"candidates": [{"text": "x" * (server.max_body + 1)}]}
    status, payload = verify(server.url, big)
    assert status == 413
    assert f"the limit is {server.max_body}" in payload["error"]["message"]


def test_a_post_without_content_length_is_a_411(server):
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"POST /verify HTTP/1.1\r\nHost: x\r\n\r\n")
        head = sock.makefile("rb").readline()
    assert head.split()[1] == b"411"


def test_an_unknown_route_is_a_404(server):
    assert call(server.url, path="/nope")[0] == 404
    assert call(server.url, "POST", "/verify/", {"candidates": [LOCALS]})[0] == 404


def test_a_full_queue_is_a_503_until_a_slot_frees(server):
    service = server.service
    assert service.admit() and service.admit()
    try:
        status, headers, payload = call(server.url, "POST", "/verify", {"candidates": [LOCALS]})
        assert status == 503
        assert headers["Retry-After"] == "1"
        assert "queue is full (2 requests)" in payload["error"]["message"]
    finally:
        service.release()
        service.release()
    assert verify(server.url, {"candidates": [LOCALS], "stages": ["parse"]})[0] == 200


def test_a_request_over_its_time_is_a_504(server, monkeypatch):
    monkeypatch.setattr(server.service, "timeout", 0.0)
    status, payload = verify(server.url, {"candidates": [LOCALS], "stages": ["parse"]})
    assert status == 504
    assert "did not finish in 0 s" in payload["error"]["message"]


def test_a_client_that_leaves_mid_batch_does_not_stop_the_server(server):
    # one candidate, so one of the two workers stays free for the next client
    body = json.dumps({"candidates": [{"files": {"main.tf": BUCKET}}],
                       "stages": ["validate"]}).encode()
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(b"POST /verify HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                     % (len(body), body))
        wait_until(lambda: call(server.url)[2]["queue"]["in_flight"] == 1)
    # the server notices within a poll, gives the slot back, and answers the next client
    wait_until(lambda: call(server.url)[2]["queue"]["in_flight"] == 0, timeout=5)
    status, payload = verify(server.url, {"candidates": [LOCALS], "stages": ["parse"]})
    assert status == 200
    assert payload["results"][0]["certificate"]["status"] == "pass"


def _start_server(*args: str) -> tuple[subprocess.Popen[str], str, queue.Queue[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "iacforge.cli", "serve", "--port", "0", *args],
                            stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stderr], daemon=True).start()
    while True:
        line = lines.get(timeout=60)
        if "listening on" in line:
            return proc, line.split("listening on ")[1].split()[0], lines


@pytest.mark.slow
def test_sigterm_lets_the_request_in_flight_finish_with_its_answer():
    proc, url, lines = _start_server("--no-cache", "--workers", "1")
    try:
        answers: list[tuple[int, Any]] = []
        reference = {p.name: p.read_text() for p in (TASK / "reference").glob("*.tf")}
        request = {"candidates": [{"files": reference}],
                   "intent": (TASK / "intent_v1.rego").read_text(), "stages": ["intent"]}
        client = threading.Thread(target=lambda: answers.append(verify(url, request)))
        client.start()
        wait_until(lambda: call(url)[2]["queue"]["in_flight"] == 1)
        proc.send_signal(signal.SIGTERM)
        host, port = url.removeprefix("http://").split(":")
        wait_until(lambda: _refused(host, int(port)), timeout=5)  # no new requests...
        assert client.is_alive()  # ...while the one in flight is still being verified
        client.join(300)
        assert proc.wait(60) == 0
    finally:
        proc.kill()
    [(status, body)] = answers
    assert status == 200
    [result] = body["results"]
    assert [(s["stage"], s["status"]) for s in result["certificate"]["stages"]][-2:] == [
        ("plan", "pass"), ("intent", "pass")]
    assert result["reward"] == 2.0
    assert any("SIGTERM, finishing requests in flight" in line for line in list(lines.queue))


def _refused(host: str, port: int) -> bool:
    try:
        socket.create_connection((host, port), timeout=1).close()
    except OSError:
        return True
    return False


def test_a_body_far_over_the_limit_is_a_413_not_a_reset(server):
    # too big to drain before answering: the answer still arrives whole, then the close lingers
    big = {"candidates": [{"text": "x" * (4 << 20)}]}
    status, payload = verify(server.url, big)
    assert status == 413
    assert f"the limit is {server.max_body}" in payload["error"]["message"]


@pytest.mark.parametrize("body", [b"[" * 30_000 + b"]" * 30_000,
                                  b'{"candidates": ' + b"[" * 30_000 + b"]" * 30_000 + b"}"],
                         ids=["array", "in-a-field"])
def test_json_nested_too_deeply_is_a_one_line_400(server, body):
    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=60)
    conn.request("POST", "/verify", body=body)
    response = conn.getresponse()
    raw = response.read()
    conn.close()
    assert response.status == 400
    assert json.loads(raw) == {"error": {"status": 400,
                                         "message": "malformed JSON: nested too deeply"}}
    assert b"\n" not in raw


@pytest.mark.parametrize(("raised", "message"), [
    (SetupError("terraform not found at /opt/secret/terraform"),
     "the server cannot verify (a setup problem); its log says why"),
    (KeyError("/home/someone/.aws/credentials"),
     "internal error; the server's log has the details"),
])
def test_a_500_never_carries_the_exception_text(server, monkeypatch, raised, message):
    def fail(*args, **kwargs):
        raise raised

    monkeypatch.setattr(server.service, "answer", fail)
    status, payload = verify(server.url, {"candidates": [LOCALS], "stages": ["parse"]})
    assert (status, payload) == (500, {"error": {"status": 500, "message": message}})


@pytest.mark.parametrize(("head", "status"), [
    (b"PUT /verify HTTP/1.1\r\n", 501),
    (b"GET /" + b"x" * 70_000 + b" HTTP/1.1\r\n", 414),
    (b"GET /health HTTP/1.1\r\n" + b"X-Many: 1\r\n" * 101, 431),
], ids=["method", "long-url", "many-headers"])
def test_http_level_refusals_are_json_errors_too(server, head, status):
    host, port = server.server_address[:2]
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(head + b"Host: x\r\n\r\n")
        answer = sock.makefile("rb").read()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split()[1] == str(status).encode()
    assert json.loads(body)["error"]["status"] == status


@pytest.mark.parametrize(("files", "message"), [
    ({"main.tf": "locals {}\n", "./main.tf": "locals {}\n"},
     "candidates[0].files: file names 'main.tf' and './main.tf' name the same file"),
    ({"main.tf": "locals {}\n", "main.tf/x.tf": "locals {}\n"},
     "candidates[0].files: 'main.tf' is a file and also the folder of 'main.tf/x.tf'"),
    ({"a/../main.tf": "locals {}\n"},
     "candidates[0].files: file name 'a/../main.tf' escapes the workspace"),
], ids=["same-file", "file-and-folder", "escapes"])
def test_file_names_that_clash_or_escape_are_a_422(server, files, message):
    status, payload = verify(server.url, {"candidates": [{"files": files}], "stages": ["parse"]})
    assert (status, payload["error"]["message"]) == (422, message)


def test_file_names_that_clash_in_a_reply_fail_its_extract_stage(server):
    reply = "```hcl main.tf\nlocals {}\n```\n\n```hcl MAIN.tf\nlocals {}\n```\n"
    status, payload = verify(server.url, {"candidates": [{"text": reply}], "stages": ["parse"]})
    assert status == 200
    [result] = payload["results"]
    extract = result["certificate"]["stages"][0]
    assert (extract["stage"], extract["status"]) == ("extract", "fail")
    assert extract["diagnostics"][0]["summary"] == (
        "file names 'main.tf' and 'MAIN.tf' name the same file")
    assert result["reward"] == 0.0
