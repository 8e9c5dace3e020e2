"""The curated catalogue of resource families the synthesizer draws from.

Each family is a function `(rng, region) -> list[Resource]` that makes one small, valid
configuration with varied attributes and references; `FAMILIES` names them. Every argument a
family sets is checked against the provider schema (see `iacforge.data.schema`) in the tests
and again before anything is verified.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from iacforge.data.families import (
    analytics,
    api,
    buckets,
    compute,
    containers,
    database,
    edge,
    files,
    gateways,
    identity,
    loadbalancing,
    messaging,
    network,
    observability,
    security,
    storage,
    streaming,
)
from iacforge.data.spec import Resource

Family = Callable[[Random, str], list[Resource]]

FAMILIES: dict[str, Family] = {
    "s3": storage.s3, "dynamodb": storage.dynamodb, "ecr": storage.ecr,
    "vpc": network.vpc, "security_group": network.security_group, "route53": network.route53,
    "ec2": compute.ec2, "lambda": compute.lambda_, "iam": security.iam, "kms": security.kms,
    "secrets": security.secrets, "sqs": messaging.sqs, "sns": messaging.sns,
    "cloudwatch": observability.cloudwatch, "rds": database.rds,
    "alb": loadbalancing.alb, "nlb": loadbalancing.nlb,
    "launch_template": loadbalancing.launch_template, "autoscaling": loadbalancing.autoscaling,
    "ecs": containers.ecs, "eks": containers.eks,
    "apigateway_rest": api.apigateway_rest, "apigateway_http": api.apigateway_http,
    "cloudfront": edge.cloudfront, "wafv2": edge.wafv2, "acm": edge.acm,
    "efs": files.efs, "backup": files.backup,
    "elasticache": database.elasticache, "redshift": database.redshift,
    "kinesis": streaming.kinesis, "eventbridge": streaming.eventbridge,
    "glue": analytics.glue, "athena": analytics.athena,
    "cognito": identity.cognito, "iam_policy": identity.iam_policy,
    "nat_gateway": gateways.nat_gateway, "transit_gateway": gateways.transit_gateway,
    "vpc_endpoint": gateways.vpc_endpoint,
    "s3_notification": buckets.s3_notification, "s3_replication": buckets.s3_replication,
}
#: The families added for issue 15 (the catalogue's second wave).
NEW_FAMILIES = ("alb", "nlb", "launch_template", "autoscaling", "ecs", "eks", "apigateway_rest",
                "apigateway_http", "cloudfront", "wafv2", "acm", "efs", "backup", "elasticache",
                "redshift", "kinesis", "eventbridge", "glue", "athena",
                "cognito", "iam_policy", "nat_gateway", "transit_gateway", "vpc_endpoint",
                "s3_notification", "s3_replication")

__all__ = ["FAMILIES", "Family"]
