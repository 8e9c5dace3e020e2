"""Candidates sharing the emulator never see each other's resources: each plan (and apply) runs
in an emulated account of its own."""

from __future__ import annotations

import boto3
from botocore.config import Config

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.verify.pipeline import Verifier
from iacforge.verify.terraform.emulator import account_credentials, new_account_id, shared_server

READ_A = """
data "aws_sqs_queue" "a" {
  name = "candidate-a-secret"
}

output "url" {
  value = data.aws_sqs_queue.a.url
}
"""


def queue(endpoint: str, **credentials: str) -> str:
    sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                       config=Config(proxies={}), **credentials)
    return sqs.create_queue(QueueName="candidate-a-secret")["QueueUrl"]


def test_a_plan_time_read_finds_nothing_of_another_candidate():
    endpoint = shared_server().endpoint
    # candidate A's resources, in the default account and in an account of its own
    queue(endpoint, aws_access_key_id="test", aws_secret_access_key="test")
    own = account_credentials(endpoint, new_account_id())
    queue(endpoint, aws_access_key_id=own["AWS_ACCESS_KEY_ID"],
          aws_secret_access_key=own["AWS_SECRET_ACCESS_KEY"],
          aws_session_token=own["AWS_SESSION_TOKEN"])
    cert = Verifier(Settings.from_env(), stages=["plan"]).verify(Candidate({"main.tf": READ_A}))
    plan = next(r for r in cert.stages if r.stage == "plan")
    assert plan.status == "fail", cert.to_dict()
    assert any("candidate-a-secret" in d.summary + d.detail or "queue" in d.detail.lower()
               for d in plan.diagnostics), plan.diagnostics
