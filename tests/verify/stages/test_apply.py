"""The apply stage on real terraform and moto: verdicts, emulator gaps, teardown, isolation."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.diagnostics import Diagnostic
from iacforge.hcl.extract import from_path
from iacforge.hcl.parse import parse_files
from iacforge.verify.context import StageContext
from iacforge.verify.pipeline import Verifier, resolve_stages
from iacforge.verify.sandbox.workspace import Workspace
from iacforge.verify.stages import DEFAULT_STAGES, STAGES, apply
from iacforge.verify.terraform.emulator import MotoServer, aws_env, new_account_id
from iacforge.verify.terraform.runner import Terraform

FIXTURES = Path(__file__).parents[2] / "fixtures" / "apply"
SRC = str(Path(__file__).resolve().parents[3] / "src")
REGION = "us-east-1"
AMPLIFY_500 = (
    "creating Amplify App (site): operation error Amplify: CreateApp, exceeded maximum number "
    "of attempts, 1, https response error StatusCode: 500, RequestID: , deserialization "
    "failed, failed to decode response body, invalid character '<' looking for beginning of "
    "value")
SUBNET_CONFLICT = (
    "creating EC2 Subnet: operation error EC2: CreateSubnet, https response error StatusCode: "
    "400, RequestID: x, api error InvalidSubnet.Conflict: The CIDR '10.0.1.128/25' conflicts "
    "with another subnet")


@pytest.fixture(scope="module")
def certs() -> dict[str, Certificate]:
    """Each fixture verified up to apply once, side by side (apply + destroy cost ~10-30 s)."""
    verifier = Verifier(Settings.from_env(), stages=["apply"])
    names = sorted(p.name for p in FIXTURES.iterdir())
    with ThreadPoolExecutor(len(names)) as pool:
        return dict(zip(names, pool.map(lambda n: verifier.verify(from_path(FIXTURES / n)),
                                        names), strict=True))


def stage(cert: Certificate, name: str = "apply"):
    return next(s for s in cert.stages if s.stage == name)


def client(endpoint: str, service: str, env: dict[str, str]):
    return boto3.client(
        service, endpoint_url=endpoint, region_name=REGION, config=Config(proxies={}),
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"], aws_secret_access_key=env[
            "AWS_SECRET_ACCESS_KEY"], aws_session_token=env.get("AWS_SESSION_TOKEN"))


def test_apply_runs_last_and_only_when_asked_for():
    assert list(STAGES)[-1] == "apply"
    assert "apply" not in DEFAULT_STAGES
    assert "apply" not in resolve_stages(None, with_intent=True)
    resolved = resolve_stages(["apply"], with_intent=False)
    assert resolved[-1] == "apply"
    assert {"parse", "validate", "plan"} <= set(resolved)
    assert apply.SENTENCE.startswith("Ensure ")


@pytest.mark.slow
def test_multi_resource_config_applies_and_destroys_cleanly(certs):
    result = stage(certs["pass_network_storage_iam"])
    assert (result.status, result.diagnostics) == ("pass", ())
    # VPC, 2 subnets, security group, 2 buckets, versioning, encryption, role, policy, attachment
    assert result.metrics["resources"] == 11
    assert result.metrics["apply_seconds"] > 0 and result.metrics["destroy_seconds"] > 0


@pytest.mark.slow
def test_config_that_plans_but_fails_at_apply_carries_the_emulators_message(certs):
    cert = certs["fail_overlapping_subnets"]
    assert stage(cert, "plan").status == "pass"
    result = stage(cert)
    assert result.status == "fail"
    [diagnostic] = result.diagnostics
    assert diagnostic.address == "aws_subnet.fail_overlaps_app"
    assert diagnostic.rule_id == apply.RULE
    assert "InvalidSubnet.Conflict" in diagnostic.summary
    assert "10.0.1.128/25' conflicts with another subnet" in diagnostic.summary
    assert (diagnostic.file, diagnostic.line) == ("main.tf", 15)
    assert result.metrics["resources"] == 2  # the VPC and the first subnet, then destroyed


@pytest.mark.slow
def test_unimplemented_service_is_an_error_naming_it(certs):
    cert = certs["error_unimplemented_service"]
    assert stage(cert, "plan").status == "pass"
    result = stage(cert)
    assert result.status == "error"
    [diagnostic] = result.diagnostics
    assert diagnostic.summary == "the AWS emulator does not implement Amplify CreateApp"
    assert diagnostic.address == "aws_amplify_app.site"
    assert diagnostic.rule_id == apply.EMULATOR_RULE
    # max_retries in the override: a 500 fails in seconds, not after 25 retries with back-off
    assert result.metrics["apply_seconds"] < 60


@pytest.mark.parametrize(("summary", "expected"), [
    (AMPLIFY_500, "the AWS emulator does not implement Amplify CreateApp"),
    ("creating CodeArtifact Domain (d): operation error codeartifact: CreateDomain, https "
     "response error StatusCode: 501, RequestID: , api error NotImplemented",
     "the AWS emulator does not implement codeartifact CreateDomain"),
    ("creating S3 Bucket (logs): operation error S3: CreateBucket, https response error "
     "StatusCode: 409, RequestID: x, BucketAlreadyExists: ",
     "bucket name held by another emulated account"),
    ("Retrieving AWS account details: validating provider credentials: retrieving caller "
     "identity from STS: operation error STS: GetCallerIdentity, exceeded maximum number of "
     "attempts, 3, https response error StatusCode: 0, RequestID: , request send failed, "
     "read: connection reset by peer", "the AWS emulator did not serve STS GetCallerIdentity"),
    ('reading EC2 VPC: Post "http://127.0.0.1:9/": dial tcp 127.0.0.1:9: connect: '
     "connection refused", "the AWS emulator stopped answering"),
])
def test_emulator_failures_are_blamed_on_the_emulator(summary, expected):
    blamed = apply._blame(Diagnostic("error", summary, file="main.tf", line=3,
                                     address="aws_x.y", rule_id=apply.RULE))
    assert blamed.summary == expected
    assert blamed.rule_id == apply.EMULATOR_RULE
    assert (blamed.file, blamed.line, blamed.address) == ("main.tf", 3, "aws_x.y")
    assert summary in blamed.detail


def test_a_refusal_by_aws_stays_the_candidates():
    refused = Diagnostic("error", SUBNET_CONFLICT, rule_id=apply.RULE)
    assert apply._blame(refused) is refused


def test_override_caps_retries_of_every_aws_provider_and_lifts_prevent_destroy():
    model = parse_files({
        "main.tf": textwrap.dedent("""\
            provider "aws" {
              alias  = "west"
              region = "us-west-2"
            }
            resource "aws_s3_bucket" "kept" {
              lifecycle {
                prevent_destroy = true
              }
            }
            resource "aws_sqs_queue" "plain" {}
        """),
        "more.tf.json": '{"provider": {"aws": [{"alias": "east"}]}}',
    }).model
    text = apply.override(model)
    assert text.count(f"max_retries = {apply.MAX_RETRIES}") == 3
    assert 'alias       = "west"' in text and 'alias       = "east"' in text
    assert 'resource "aws_s3_bucket" "kept" {\n  lifecycle {\n    prevent_destroy = false' in text
    assert "aws_sqs_queue" not in text


def test_the_override_file_name_is_reserved(tmp_path):
    files = {apply.OVERRIDE: 'provider "aws" {}\n'}
    ctx = StageContext(Candidate(files), Settings(), workdir=tmp_path,
                       terraform=Terraform(Settings()), aws_endpoint="http://127.0.0.1:9",
                       model=parse_files(files).model)
    result = apply.run(ctx)
    assert result.status == "error"
    assert result.diagnostics[0].summary == f"file name {apply.OVERRIDE} is reserved"
    assert not (tmp_path / apply.OVERRIDE).exists()


def test_bucket_names_are_the_literal_ones_the_plan_creates():
    plan = {"resource_changes": [
        {"type": "aws_s3_bucket", "change": {"after": {"bucket": "logs"}}},
        {"type": "aws_s3_bucket", "change": {"after": {"bucket_prefix": "tmp-"}}},
        {"type": "aws_s3_bucket", "change": {"after": None}},
        {"type": "aws_sqs_queue", "change": {"after": {"bucket": "not-a-bucket"}}},
    ]}
    assert apply.bucket_names(plan) == {"logs"}


def test_runs_that_create_the_same_bucket_name_take_turns(tmp_path):
    events: list[str] = []
    holding = threading.Event()

    def first() -> None:
        with apply.names_locked({"logs"}, tmp_path):
            holding.set()
            time.sleep(0.3)
            events.append("first done")

    worker = threading.Thread(target=first)
    worker.start()
    holding.wait()
    with apply.names_locked({"audit"}, tmp_path):  # another name (lock slot): no wait
        events.append("other name in")
    with apply.names_locked({"logs", "audit"}, tmp_path):
        events.append("same name in")
    worker.join()
    assert events == ["other name in", "first done", "same name in"]


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        yield server


def test_each_run_gets_its_own_emulated_account(moto):
    first, second = new_account_id(), new_account_id()
    env_a = aws_env(moto.endpoint, REGION, first)
    env_b = aws_env(moto.endpoint, REGION, second)
    assert client(moto.endpoint, "sts", env_a).get_caller_identity()["Account"] == first
    assert client(moto.endpoint, "sts", env_b).get_caller_identity()["Account"] == second
    client(moto.endpoint, "sqs", env_a).create_queue(QueueName="orders")
    client(moto.endpoint, "iam", env_a).create_role(RoleName="app",
                                                    AssumeRolePolicyDocument="{}")
    assert "QueueUrls" not in client(moto.endpoint, "sqs", env_b).list_queues()
    assert client(moto.endpoint, "iam", env_b).list_roles()["Roles"] == []
    # S3 bucket names are global, in moto as in AWS: the other account cannot take one
    client(moto.endpoint, "s3", env_a).create_bucket(Bucket="isolation-logs")
    assert client(moto.endpoint, "s3", env_b).list_buckets()["Buckets"] == []
    with pytest.raises(Exception, match="BucketAlreadyExists"):
        client(moto.endpoint, "s3", env_b).create_bucket(Bucket="isolation-logs")


STATE_TF = 'resource "aws_s3_bucket" "kept" {\n  bucket = "kept-logs"\n}\n' \
           'resource "aws_sqs_queue" "gone" {\n  name = "gone"\n}\n'


@pytest.mark.slow
def test_teardown_check_asks_the_emulator(moto):
    """A state claiming two resources, one of which the emulator still has: that one is named."""
    settings = Settings.from_env()
    terraform = Terraform(settings)
    env = aws_env(moto.endpoint, REGION, new_account_id())
    client(moto.endpoint, "s3", env).create_bucket(Bucket="kept-logs")
    provider = 'provider["registry.terraform.io/hashicorp/aws"]'
    applied = {"version": 4, "terraform_version": terraform.version, "serial": 1,
               "lineage": "test", "outputs": {}, "resources": [
                   {"mode": "managed", "type": "aws_s3_bucket", "name": "kept",
                    "provider": provider, "instances": [{"schema_version": 0, "attributes": {
                        "id": "kept-logs", "bucket": "kept-logs"}}]},
                   {"mode": "managed", "type": "aws_sqs_queue", "name": "gone",
                    "provider": provider, "instances": [{"schema_version": 0, "attributes": {
                        "id": f"{moto.endpoint}/000000000000/gone", "name": "gone"}}]}]}
    with Workspace({"main.tf": STATE_TF}) as workspace:
        terraform.link(workspace.path)
        ctx = StageContext(Candidate({"main.tf": STATE_TF}), settings, workdir=workspace.path,
                           terraform=terraform, aws_endpoint=moto.endpoint)
        [left] = apply._left_behind(ctx, env, applied)
    assert left.address == "aws_s3_bucket.kept"
    assert left.summary == "aws_s3_bucket.kept still exists in the emulator after destroy"
    assert left.rule_id == apply.TEARDOWN_RULE


def test_addresses_of_a_state_skip_what_destroy_only_forgets():
    aws = 'provider["registry.terraform.io/hashicorp/aws"]'
    state = {"resources": [
        {"mode": "managed", "type": "aws_subnet", "name": "a", "provider": aws,
         "instances": [{"index_key": 0}, {"index_key": 1}]},
        {"mode": "managed", "module": "module.net", "type": "aws_vpc", "name": "v",
         "provider": aws, "instances": [{"index_key": "blue"}]},
        {"mode": "managed", "type": "aws_default_vpc", "name": "d", "provider": aws,
         "instances": [{}]},
        {"mode": "managed", "type": "aws_cloudwatch_log_group", "name": "k", "provider": aws,
         "instances": [{"attributes": {"skip_destroy": True}}]},
        {"mode": "managed", "type": "terraform_data", "name": "t",
         "provider": 'provider["terraform.io/builtin/terraform"]', "instances": [{}]},
        {"mode": "data", "type": "aws_region", "name": "r", "provider": aws, "instances": [{}]},
    ]}
    remote = {"aws_subnet.a[0]", "aws_subnet.a[1]", 'module.net.aws_vpc.v["blue"]'}
    assert apply._addresses(state, exists_remotely=True) == remote
    assert apply._addresses(state) == remote | {
        "aws_default_vpc.d", "aws_cloudwatch_log_group.k", "terraform_data.t"}


def gone(pid: int, within: float = 10.0) -> bool:
    """True once `pid` no longer runs (a zombie counts as gone)."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X") or time.monotonic() >= deadline:
            return state in ("Z", "X")
        time.sleep(0.05)


def test_a_worker_pools_shared_emulator_dies_with_a_crashed_parent():
    """Threads of a pool share one server, it outlives them, and a SIGKILL leaks nothing."""
    code = textwrap.dedent("""
        import time
        from concurrent.futures import ThreadPoolExecutor
        from iacforge.verify.terraform.emulator import shared_server
        with ThreadPoolExecutor(2) as pool:
            servers = list(pool.map(lambda _: shared_server(), range(4)))
        assert all(s is servers[0] for s in servers)
        time.sleep(0.3)  # the pool's threads are gone; a parent-death signal would have landed
        assert servers[0].alive()
        print(servers[0].pid, flush=True)
        time.sleep(60)
    """)
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": SRC, "HOME": os.environ.get("HOME", "/")}
    parent = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    line = parent.stdout.readline()
    if not line.strip().isdigit():
        parent.kill()
        pytest.fail(f"parent printed {line!r}: {parent.communicate()[1]}")
    moto_pid = int(line)
    assert not gone(moto_pid, within=0)
    tmp = Path(os.readlink(f"/proc/{moto_pid}/cwd"))  # the server runs in its temp dir
    parent.send_signal(signal.SIGKILL)
    parent.communicate()
    assert gone(moto_pid), "moto outlived its SIGKILLed parent"
    shutil.rmtree(tmp)  # nobody was left to remove it
