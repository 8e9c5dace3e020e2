"""Messaging families: SQS queues with dead-letter queues, SNS topics and subscriptions."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.spec import Body, Raw, Resource

QUEUE_CHOICES = {"visibility_timeout_seconds": (30, 60, 120, 300, 900),
                 "message_retention_seconds": (86400, 345600, 604800, 1209600),
                 "delay_seconds": (0, 5, 10, 30), "receive_wait_time_seconds": (0, 10, 20),
                 "sqs_managed_sse_enabled": (True, False)}


def queue(rng: Random, name: str, queue_name: str, *, fifo: bool = False) -> Resource:
    attrs: dict = {"name": f"{queue_name}.fifo" if fifo else queue_name}
    if fifo:
        attrs |= {"fifo_queue": True,
                  "content_based_deduplication": rng.choice((True, False))}
    attrs |= choose(rng, QUEUE_CHOICES, p=0.35)
    return Resource("aws_sqs_queue", name, Body(attrs), choices=QUEUE_CHOICES)


def sqs(rng: Random, region: str) -> list[Resource]:
    """A queue, maybe FIFO, maybe with a dead-letter queue and a redrive policy."""
    project, purpose, env = words(rng)
    fifo = maybe(rng, 0.2)
    main = queue(rng, purpose, f"{project}-{purpose}-{env}", fifo=fifo)
    if t := tags(rng, project, env, p=0.4):
        main = Resource(main.type, main.name, main.body.with_attrs(tags=t), choices=main.choices)
    if not maybe(rng, 0.5):
        return [main]
    dlq = queue(rng, f"{purpose}_dlq", f"{project}-{purpose}-{env}-dlq", fifo=fifo)
    receives = rng.choice((3, 5, 10))
    redrive = Raw(f"jsonencode({{\n    deadLetterTargetArn = {dlq.address}.arn\n"
                  f"    maxReceiveCount     = {receives}\n  }})", refs=(dlq.ref("arn"),),
                  phrase=f"that sends messages to the dead-letter queue after {receives} "
                         "receives")
    main = Resource(main.type, main.name, main.body.with_attrs(redrive_policy=redrive),
                    choices=main.choices)
    return [dlq, main]


def sns(rng: Random, region: str) -> list[Resource]:
    """A topic, maybe with an SQS or email subscription."""
    project, purpose, env = words(rng)
    attrs: dict = {"name": f"{project}-{purpose}-{env}"}
    if maybe(rng, 0.3):
        attrs["display_name"] = f"{project} {purpose}"
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    topic = Resource("aws_sns_topic", purpose, Body(attrs))
    out = [topic]
    roll = rng.random()
    if roll < 0.4:
        target = queue(rng, f"{purpose}_sub", f"{project}-{purpose}-{env}-sub")
        out += [target, Resource("aws_sns_topic_subscription", f"{purpose}_sqs", Body({
            "topic_arn": topic.ref("arn"), "protocol": "sqs", "endpoint": target.ref("arn"),
            "raw_message_delivery": rng.choice((True, False))}))]
    elif roll < 0.7:
        out.append(Resource("aws_sns_topic_subscription", f"{purpose}_email", Body({
            "topic_arn": topic.ref("arn"), "protocol": "email",
            "endpoint": f"{rng.choice(('ops', 'alerts', 'oncall'))}@{project}.example.com"})))
    return out
