"""Event and stream families: Kinesis streams (and Firehose to S3), EventBridge rules and
targets.

Step Functions is left out: the provider validates a state machine's definition at plan
time (`ValidateStateMachineDefinition`), which the emulator does not answer, so every plan
of one stalls in retries for minutes and then fails."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.families.messaging import queue
from iacforge.data.families.security import role
from iacforge.data.spec import Body, Raw, Resource


def kinesis(rng: Random, region: str) -> list[Resource]:
    """A data stream (provisioned or on demand, maybe encrypted), maybe a Firehose delivery
    stream that reads it into an S3 bucket."""
    project, purpose, env = words(rng)
    choices = {"retention_period": (24, 48, 72, 168)}
    attrs: dict = {"name": f"{project}-{purpose}-{env}", **choose(rng, choices, p=0.5)}
    if maybe(rng, 0.5):
        attrs["shard_count"] = rng.choice((1, 2, 4))
        mode = "PROVISIONED"
    else:
        mode = "ON_DEMAND"
    if maybe(rng, 0.4):
        attrs |= {"encryption_type": "KMS", "kms_key_id": "alias/aws/kinesis"}
    if maybe(rng, 0.3):
        attrs["shard_level_metrics"] = ["IncomingBytes", "OutgoingBytes"]
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    stream = Resource("aws_kinesis_stream", purpose, Body(
        attrs, (("stream_mode_details", Body({"stream_mode": mode})),)), choices=choices)
    out = [stream]
    if maybe(rng, 0.35):
        bucket = Resource("aws_s3_bucket", "delivery", Body(
            {"bucket": f"{project}-{purpose}-delivery-{rng.randint(1000, 99999)}"}))
        delivery = role(rng, "firehose", "firehose.amazonaws.com", f"{project}-{purpose}-fh")
        out += [bucket, *delivery, Resource("aws_kinesis_firehose_delivery_stream", purpose,
                                            Body({"name": f"{project}-{purpose}-to-s3",
                                                  "destination": "extended_s3"}, (
            ("kinesis_source_configuration", Body({
                "kinesis_stream_arn": stream.ref("arn"), "role_arn": delivery[0].ref("arn")})),
            ("extended_s3_configuration", Body({
                "role_arn": delivery[0].ref("arn"), "bucket_arn": bucket.ref("arn"),
                "prefix": f"{purpose}/", "buffering_interval":
                rng.choice((60, 300, 900))}))))) ]
    return out


def eventbridge(rng: Random, region: str) -> list[Resource]:
    """A scheduled or event-pattern rule (maybe on a custom bus) with an SQS or SNS target."""
    project, purpose, env = words(rng)
    out: list[Resource] = []
    attrs: dict = {"name": f"{project}-{purpose}-{env}"}
    if maybe(rng, 0.5):
        attrs["schedule_expression"] = rng.choice(("rate(5 minutes)", "rate(1 hour)",
                                                   "cron(0 6 * * ? *)", "rate(1 day)"))
    else:
        source, detail = rng.choice((("aws.ec2", "EC2 Instance State-change Notification"),
                                     ("aws.s3", "Object Created"),
                                     ("aws.codepipeline", "CodePipeline Pipeline Execution "
                                                          "State Change")))
        pattern = ('jsonencode({\n    source        = ["' + source + '"]\n'
                   f'    "detail-type" = ["{detail}"]\n  }})')
        attrs["event_pattern"] = Raw(pattern, contains=(source,),
                                     phrase=f'matching events whose source is "{source}" and '
                                            f'detail-type is "{detail}"')
        if maybe(rng, 0.3):
            bus = Resource("aws_cloudwatch_event_bus", "custom", Body(
                {"name": f"{project}-{env}-events"}))
            out.append(bus)
            attrs["event_bus_name"] = bus.ref("name")
    if maybe(rng, 0.4):
        attrs["description"] = f"{purpose} events for {project}"
    if t := tags(rng, project, env, p=0.3):
        attrs["tags"] = t
    rule = Resource("aws_cloudwatch_event_rule", purpose, Body(attrs))
    if maybe(rng, 0.5):
        target = queue(rng, f"{purpose}_events", f"{project}-{purpose}-events")
    else:
        target = Resource("aws_sns_topic", f"{purpose}_events", Body(
            {"name": f"{project}-{purpose}-events"}))
    target_attrs: dict = {"rule": rule.ref("name"), "arn": target.ref("arn")}
    if "event_bus_name" in attrs:
        target_attrs["event_bus_name"] = attrs["event_bus_name"]
    if maybe(rng, 0.4):
        target_attrs["target_id"] = f"{purpose}-target"
    return [*out, rule, target, Resource("aws_cloudwatch_event_target", purpose,
                                         Body(target_attrs))]
