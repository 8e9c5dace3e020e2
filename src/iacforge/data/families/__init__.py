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
    compute,
    database,
    messaging,
    network,
    observability,
    security,
    storage,
)
from iacforge.data.spec import Resource

Family = Callable[[Random, str], list[Resource]]

FAMILIES: dict[str, Family] = {
    "s3": storage.s3, "dynamodb": storage.dynamodb, "ecr": storage.ecr,
    "vpc": network.vpc, "security_group": network.security_group, "route53": network.route53,
    "ec2": compute.ec2, "lambda": compute.lambda_, "iam": security.iam, "kms": security.kms,
    "secrets": security.secrets, "sqs": messaging.sqs, "sns": messaging.sns,
    "cloudwatch": observability.cloudwatch, "rds": database.rds,
}

__all__ = ["FAMILIES", "Family"]
