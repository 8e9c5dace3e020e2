"""Threat: egress through the emulator: a resource that makes moto call an address the candidate
chose (an SNS http subscription, a Firehose http endpoint, an API Gateway HTTP integration, an
EventBridge API destination, a Lambda to run, a recording to replay).

The emulator runs in the sandbox's network namespace, which holds only loopback, so none of
these reaches the host's listener whatever the candidate writes. The control, the same calls
to a moto on the host's network, shows that they would have.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable

import boto3
import pytest
import urllib3
from botocore.config import Config

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier
from iacforge.verify.terraform.emulator import MotoServer, account_credentials, new_account_id

from .conftest import PERMISSIVE, Listener

REGION = "us-east-1"


def deliveries(endpoint: str, port: int) -> dict[str, Callable[[], object]]:
    """Each way a client of the emulator can ask it to call 127.0.0.1:`port`."""
    credentials = account_credentials(endpoint, new_account_id())
    session = boto3.Session(aws_access_key_id=credentials["AWS_ACCESS_KEY_ID"],
                            aws_secret_access_key=credentials["AWS_SECRET_ACCESS_KEY"],
                            aws_session_token=credentials["AWS_SESSION_TOKEN"],
                            region_name=REGION)

    def aws(service: str):
        return session.client(service, endpoint_url=endpoint,
                              config=Config(proxies={}, retries={"max_attempts": 1}))

    url = f"http://127.0.0.1:{port}/hook"
    role = "arn:aws:iam::123456789012:role/r"

    def sns(protocol: str) -> None:
        topic = aws("sns").create_topic(Name=f"t-{protocol}")["TopicArn"]
        aws("sns").subscribe(TopicArn=topic, Protocol=protocol,
                             Endpoint=url.replace("http", protocol, 1))
        aws("sns").publish(TopicArn=topic, Message="hello")

    def firehose() -> None:
        aws("firehose").create_delivery_stream(
            DeliveryStreamName="f", HttpEndpointDestinationConfiguration={
                "EndpointConfiguration": {"Url": url}, "RoleARN": role,
                "S3Configuration": {"RoleARN": role, "BucketARN": "arn:aws:s3:::b"}})
        aws("firehose").put_record(DeliveryStreamName="f", Record={"Data": b"x"})

    def api_gateway() -> None:
        api = aws("apigateway").create_rest_api(name="a")["id"]
        root = aws("apigateway").get_resources(restApiId=api)["items"][0]["id"]
        aws("apigateway").put_method(restApiId=api, resourceId=root, httpMethod="GET",
                                     authorizationType="NONE")
        aws("apigateway").put_integration(restApiId=api, resourceId=root, httpMethod="GET",
                                          type="HTTP", integrationHttpMethod="GET", uri=url)
        aws("apigateway").create_deployment(restApiId=api, stageName="s")
        urllib3.PoolManager().request(
            "GET", f"{endpoint}/restapis/{api}/s/_user_request_/", retries=False, timeout=10)

    def event_bridge() -> None:
        events = aws("events")
        connection = events.create_connection(
            Name="c", AuthorizationType="API_KEY", AuthParameters={
                "ApiKeyAuthParameters": {"ApiKeyName": "k", "ApiKeyValue": "v"}})
        destination = events.create_api_destination(
            Name="d", ConnectionArn=connection["ConnectionArn"], InvocationEndpoint=url,
            HttpMethod="POST")
        events.put_rule(Name="r", EventPattern=json.dumps({"source": ["x"]}))
        events.put_targets(Rule="r", Targets=[{
            "Id": "1", "Arn": destination["ApiDestinationArn"], "RoleArn": role}])
        events.put_events(Entries=[{"Source": "x", "DetailType": "d", "Detail": "{}"}])

    def s3_to_sns() -> None:
        topic = aws("sns").create_topic(Name="t-s3")["TopicArn"]
        aws("sns").subscribe(TopicArn=topic, Protocol="http", Endpoint=url)
        aws("s3").create_bucket(Bucket=f"egress-{new_account_id()}")
        bucket = aws("s3").list_buckets()["Buckets"][-1]["Name"]
        aws("s3").put_bucket_notification_configuration(
            Bucket=bucket, NotificationConfiguration={"TopicConfigurations": [
                {"TopicArn": topic, "Events": ["s3:ObjectCreated:*"]}]})
        aws("s3").put_object(Bucket=bucket, Key="k", Body=b"x")

    def lambda_url() -> None:
        aws("lambda").create_function(
            FunctionName="f", Runtime="python3.12", Role=role, Handler="h.h",
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18})
        aws("lambda").invoke(FunctionName="f", Payload=b"{}")

    def recorder_replay() -> None:
        record = {"module": "x", "method": "GET", "url": url, "headers": {}, "body": "",
                  "body_encoded": False}
        http = urllib3.PoolManager()
        http.request("POST", f"{endpoint}/moto-api/recorder/upload-recording",
                     body=json.dumps(record), retries=False, timeout=10)
        http.request("POST", f"{endpoint}/moto-api/recorder/replay-recording", retries=False,
                     timeout=10)

    return {"sns-http": lambda: sns("http"), "sns-https": lambda: sns("https"),
            "firehose-http-endpoint": firehose, "api-gateway-http-integration": api_gateway,
            "eventbridge-api-destination": event_bridge, "s3-notification-to-sns": s3_to_sns,
            "lambda-invoke": lambda_url, "moto-api-recorder-replay": recorder_replay}


def attempt(endpoint: str, listener: Listener) -> dict[str, int]:
    """Connections the listener saw during each delivery (errors of the emulator ignored)."""
    seen = {}
    for name, deliver in deliveries(endpoint, listener.port).items():
        before = listener.accepted
        with contextlib.suppress(Exception):  # moto may fail the call: the listener counts
            deliver()
        time.sleep(0.2)  # some deliveries are made after the answer
        seen[name] = listener.accepted - before
    return seen


def test_on_the_hosts_network_the_emulator_would_call_the_listener(listener):
    with MotoServer(isolated=False) as moto:
        seen = attempt(moto.endpoint, listener)
    reached = {name for name, count in seen.items() if count}
    # (this moto's API Gateway and recorder calls fail before they dial; kept as attempts)
    assert {"sns-http", "sns-https", "firehose-http-endpoint",
            "s3-notification-to-sns"} <= reached, seen


def test_in_the_sandbox_no_delivery_reaches_the_listener(listener):
    with MotoServer() as moto:
        assert moto.isolated is None and moto.alive()
        seen = attempt(moto.endpoint, listener)
        assert moto.alive()
    assert listener.accepted == 0, seen


S3_TO_HTTP = """
resource "aws_sns_topic" "t" {
  name = "egress"
}

resource "aws_sns_topic_subscription" "s" {
  topic_arn              = aws_sns_topic.t.arn
  protocol               = "http"
  endpoint               = "http://127.0.0.1:PORT/hook"
  endpoint_auto_confirms = true
}

resource "aws_s3_bucket" "b" {
  bucket = "iacforge-egress-BUCKET"
}

resource "aws_s3_bucket_notification" "n" {
  bucket = aws_s3_bucket.b.id
  topic {
    topic_arn = aws_sns_topic.t.arn
    events    = ["s3:ObjectCreated:*"]
  }
  depends_on = [aws_sns_topic_subscription.s]
}

resource "aws_s3_object" "o" {
  bucket     = aws_s3_bucket.b.id
  key        = "k"
  content    = "x"
  depends_on = [aws_s3_bucket_notification.n]
}
"""


@pytest.mark.slow
def test_apply_with_the_screen_out_of_the_way_makes_the_emulator_call_nowhere(listener):
    files = {"main.tf": S3_TO_HTTP.replace("PORT", str(listener.port))
             .replace("BUCKET", new_account_id())}
    verifier = Verifier(Settings.from_env(), stages=["apply"],
                        options=VerifierOptions(screen_policy=PERMISSIVE))
    cert = verifier.verify(Candidate(files))
    statuses = {r.stage: r.status for r in cert.stages}
    assert statuses["plan"] == "pass", cert.to_dict()
    assert statuses["apply"] in ("pass", "error"), cert.to_dict()
    time.sleep(0.5)
    assert listener.accepted == 0
