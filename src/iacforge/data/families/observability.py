"""Observability families: CloudWatch log groups, metric alarms, and their SNS actions."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.spec import Body, Resource

RETENTION = (1, 3, 5, 7, 14, 30, 60, 90, 180, 365)
METRICS = (("CPUUtilization", "AWS/EC2", 80), ("Errors", "AWS/Lambda", 5),
           ("ApproximateNumberOfMessagesVisible", "AWS/SQS", 1000),
           ("FreeStorageSpace", "AWS/RDS", 1000000000), ("5XXError", "AWS/ApiGateway", 10))


def cloudwatch(rng: Random, region: str) -> list[Resource]:
    """Log groups and/or a metric alarm, maybe notifying an SNS topic."""
    project, purpose, env = words(rng)
    out: list[Resource] = []
    if maybe(rng, 0.6):
        choices = {"retention_in_days": RETENTION}
        attrs: dict = {"name": f"/{project}/{env}/{purpose}", **choose(rng, choices, p=0.7)}
        if t := tags(rng, project, env, p=0.4):
            attrs["tags"] = t
        out.append(Resource("aws_cloudwatch_log_group", purpose, Body(attrs), choices=choices))
    if not out or maybe(rng, 0.6):
        metric, namespace, threshold = rng.choice(METRICS)
        choices = {"evaluation_periods": (1, 2, 3, 5), "period": (60, 300, 900),
                   "statistic": ("Average", "Maximum", "Sum")}
        attrs = {"alarm_name": f"{project}-{purpose}-{metric.lower()}",
                 "comparison_operator": "GreaterThanOrEqualToThreshold"
                 if metric != "FreeStorageSpace" else "LessThanThreshold",
                 "metric_name": metric, "namespace": namespace, "threshold": threshold,
                 **choose(rng, choices)}
        if maybe(rng, 0.4):
            attrs["alarm_description"] = f"{metric} on {project} {purpose}"
        if maybe(rng, 0.4):
            topic = Resource("aws_sns_topic", "alarms", Body({"name": f"{project}-alarms"}))
            out.append(topic)
            attrs["alarm_actions"] = [topic.ref("arn")]
        out.append(Resource("aws_cloudwatch_metric_alarm", purpose, Body(attrs),
                            choices=choices))
    return out
