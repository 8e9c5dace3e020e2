"""moto's control API (`/moto-api/*`) and its account header answer the verifier only: a
candidate that reaches the emulator cannot dump, wipe or replay it, nor pick an account."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import boto3
import pytest
from botocore.config import Config

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.verify.pipeline import Verifier
from iacforge.verify.terraform.emulator import shared_server

# Path-style S3 puts the bucket first in the path: bucket "moto-api", key "data.json" is
# the emulator's dump of every account.
READ_DUMP = """
data "aws_s3_object" "dump" {
  bucket = "moto-api"
  key    = "data.json"
}

output "dump" {
  value = data.aws_s3_object.dump.body
}
"""


def status(url: str, headers: dict[str, str] | None = None, method: str = "GET") -> int:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(urllib.request.Request(url, headers=headers or {}, method=method),
                         timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.parametrize("path", ["/moto-api/", "/moto-api/data.json", "/%6doto-api/data.json",
                                  "//moto-api/data.json", "/moto-api/recorder/start-recording"])
def test_the_control_api_refuses_a_request_without_the_token(path):
    endpoint = shared_server().endpoint
    assert status(endpoint + path) == 403
    assert status(endpoint + path, {"X-Iacforge-Control": "a guess"}) == 403


def test_the_account_header_is_refused_without_the_token():
    endpoint = shared_server().endpoint
    assert status(endpoint + "/", {"x-moto-account-id": "123456789012"}) == 403
    assert status(endpoint + "/") == 200  # the control: the same request without it


def test_the_verifier_holds_the_token():
    moto = shared_server()
    with moto.control("/moto-api/data.json") as response:
        assert response.status == 200 and isinstance(json.loads(response.read()), dict)


def test_a_plan_time_read_cannot_dump_the_emulator():
    moto = shared_server()
    sqs = boto3.client("sqs", endpoint_url=moto.endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test",
                       config=Config(proxies={}))
    sqs.create_queue(QueueName="someone-elses-queue")
    cert = Verifier(Settings.from_env(), stages=["plan"]).verify(Candidate({"main.tf": READ_DUMP}))
    plan = next(r for r in cert.stages if r.stage == "plan")
    assert "someone-elses-queue" not in json.dumps(cert.to_dict())
    assert plan.status != "pass", cert.to_dict()
