"""Bucket wiring families: S3 event notifications to SQS or SNS, and cross-bucket
replication with its role."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import maybe, words
from iacforge.data.families.messaging import queue
from iacforge.data.families.security import role
from iacforge.data.spec import Body, Raw, Resource

EVENTS = (("s3:ObjectCreated:*",), ("s3:ObjectRemoved:*",),
          ("s3:ObjectCreated:Put", "s3:ObjectCreated:Post"))


def _bucket(rng: Random, name: str, bucket: str) -> Resource:
    return Resource("aws_s3_bucket", name, Body({"bucket": f"{bucket}-{rng.randint(1000, 99999)}"}))


def _allow(principal: str, action: str, target: Resource, source: Resource) -> Raw:
    text = ('jsonencode({\n    Version = "2012-10-17"\n    Statement = [{\n'
            f'      Effect    = "Allow"\n      Principal = {{ Service = "{principal}" }}\n'
            f'      Action    = "{action}"\n      Resource  = {target.address}.arn\n'
            '      Condition = { ArnEquals = { "aws:SourceArn" = '
            f'{source.address}.arn }} }}\n    }}]\n  }})')
    return Raw(text, refs=(target.ref("arn"), source.ref("arn")),
               phrase=f"letting {principal} call {action}")


def s3_notification(rng: Random, region: str) -> list[Resource]:
    """A bucket that notifies an SQS queue or an SNS topic (with the policy that lets S3
    deliver) of object events, maybe under a prefix or suffix."""
    project, purpose, env = words(rng)
    bucket = _bucket(rng, purpose, f"{project}-{purpose}-{env}")
    events = list(rng.choice(EVENTS))
    filters: dict = {}
    if maybe(rng, 0.4):
        filters["filter_prefix"] = f"{rng.choice(('incoming', 'uploads', 'raw'))}/"
    if maybe(rng, 0.3):
        filters["filter_suffix"] = rng.choice((".csv", ".json", ".jpg"))
    if maybe(rng, 0.5):
        target = queue(rng, f"{purpose}_events", f"{project}-{purpose}-events")
        policy = Resource("aws_sqs_queue_policy", f"{purpose}_events", Body({
            "queue_url": target.ref(),
            "policy": _allow("s3.amazonaws.com", "sqs:SendMessage", target, bucket)}))
        block = ("queue", Body({"queue_arn": target.ref("arn"), "events": events, **filters}))
    else:
        target = Resource("aws_sns_topic", f"{purpose}_events", Body(
            {"name": f"{project}-{purpose}-events"}))
        policy = Resource("aws_sns_topic_policy", f"{purpose}_events", Body({
            "arn": target.ref("arn"),
            "policy": _allow("s3.amazonaws.com", "SNS:Publish", target, bucket)}))
        block = ("topic", Body({"topic_arn": target.ref("arn"), "events": events, **filters}))
    return [bucket, target, policy, Resource("aws_s3_bucket_notification", purpose, Body(
        {"bucket": bucket.ref()}, (block,)))]


def s3_replication(rng: Random, region: str) -> list[Resource]:
    """A versioned source and destination bucket, a role S3 can assume with a policy to
    replicate, and a replication rule (maybe for a prefix, to a storage class)."""
    project, purpose, env = words(rng)
    source = _bucket(rng, "source", f"{project}-{purpose}-{env}")
    target = _bucket(rng, "replica", f"{project}-{purpose}-{env}-replica")
    versioning = [Resource("aws_s3_bucket_versioning", b.name, Body({"bucket": b.ref()}, (
        ("versioning_configuration", Body({"status": "Enabled"})),))) for b in (source, target)]
    replication = role(rng, "replication", "s3.amazonaws.com", f"{project}-{purpose}-replication")
    document = ('jsonencode({\n    Version = "2012-10-17"\n    Statement = [\n'
                '      { Effect = "Allow", Action = ["s3:GetReplicationConfiguration", '
                f'"s3:ListBucket"], Resource = [{source.address}.arn] }},\n'
                '      { Effect = "Allow", Action = ["s3:GetObjectVersionForReplication", '
                f'"s3:GetObjectVersionAcl"], Resource = ["${{{source.address}.arn}}/*"] }},\n'
                '      { Effect = "Allow", Action = ["s3:ReplicateObject", "s3:ReplicateDelete"]'
                f', Resource = ["${{{target.address}.arn}}/*"] }}\n    ]\n  }})')
    policy = Resource("aws_iam_role_policy", "replication", Body({
        "name": f"{project}-{purpose}-replication", "role": replication[0].ref(),
        "policy": Raw(document, refs=(source.ref("arn"), target.ref("arn")),
                      phrase="allowing s3:ReplicateObject to the replica bucket")}))
    destination: dict = {"bucket": target.ref("arn")}
    if maybe(rng, 0.5):
        destination["storage_class"] = rng.choice(("STANDARD_IA", "GLACIER", "ONEZONE_IA"))
    rule_attrs: dict = {"id": f"replicate-{purpose}", "status": "Enabled"}
    rule_blocks: list[tuple[str, Body]] = []
    if maybe(rng, 0.4):
        rule_attrs["priority"] = 1
        rule_blocks += [("filter", Body({"prefix": f"{purpose}/"})),
                        ("delete_marker_replication", Body({"status": "Disabled"}))]
    rule_blocks.append(("destination", Body(destination)))
    config = Resource("aws_s3_bucket_replication_configuration", "main", Body(
        {"role": replication[0].ref("arn"), "bucket": source.ref()},
        (("rule", Body(rule_attrs, tuple(rule_blocks))),)))
    return [source, target, *versioning, *replication, policy, config]
