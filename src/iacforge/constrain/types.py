"""The resource and data source types a request likely needs, for a per-request grammar.

The whole AWS schema (1,526 resource and 608 data source types) makes a grammar of more symbols
than llguidance's parser takes (65,535; ~600 types fit, compiled in about a second), so `schema`
mode admits the types of the services a prompt names (`bucket` → `aws_s3_*`), every type the
prompt spells out (an existing configuration, a reply being repaired), and a few that almost any
configuration may use (IAM, the caller's account and region).

>>> schema = {"resource_schemas": {"aws_s3_bucket": {}, "aws_sqs_queue": {}},
...           "data_source_schemas": {"aws_region": {}}}
>>> sorted(likely_types("A bucket for logs.", schema))
['aws_region', 'aws_s3_bucket']
"""

from __future__ import annotations

import re
from typing import Any

#: Most types a per-request grammar admits (llguidance's symbol limit holds ~600).
MAX_TYPES = 450
#: Words of a request → names (after `aws_`) of the types they call for; `x_` is a prefix.
SERVICE_WORDS: dict[str, tuple[str, ...]] = {
    "bucket": ("s3_",), "s3": ("s3_",), "object": ("s3_",), "website": ("s3_",),
    "queue": ("sqs_",), "sqs": ("sqs_",), "dlq": ("sqs_",), "dead-letter": ("sqs_",),
    "topic": ("sns_",), "sns": ("sns_",), "notification": ("sns_",), "subscription": ("sns_",),
    "function": ("lambda_",), "lambda": ("lambda_",),
    "role": ("iam_",), "policy": ("iam_",), "iam": ("iam_",), "user": ("iam_",),
    "key": ("kms_",), "kms": ("kms_",), "encryption": ("kms_",), "encrypted": ("kms_",),
    "table": ("dynamodb_",), "dynamodb": ("dynamodb_",),
    "instance": ("instance", "ami", "ebs_", "eip", "key_pair", "launch_template"),
    "ec2": ("instance", "ami", "ebs_", "eip", "key_pair", "launch_template"),
    "server": ("instance", "ami"), "ami": ("ami",),
    "vpc": ("vpc", "vpc_", "subnet", "internet_gateway", "nat_gateway", "route", "route_table",
            "route_table_association", "eip", "default_", "network_acl", "security_group"),
    "network": ("vpc", "subnet", "internet_gateway", "nat_gateway", "route", "route_table",
                "route_table_association", "network_acl"),
    "subnet": ("subnet", "vpc"), "subnets": ("subnet", "vpc"),
    "route": ("route", "route_table", "route_table_association"),
    "routes": ("route", "route_table", "route_table_association"),
    "security": ("security_group", "vpc_security_group_"),
    "firewall": ("security_group", "vpc_security_group_"),
    "ingress": ("security_group", "vpc_security_group_"),
    "dns": ("route53_",), "route53": ("route53_",), "zone": ("route53_",),
    "record": ("route53_",), "domain": ("route53_",),
    "log": ("cloudwatch_",), "logs": ("cloudwatch_",), "alarm": ("cloudwatch_",),
    "metric": ("cloudwatch_",), "cloudwatch": ("cloudwatch_",), "dashboard": ("cloudwatch_",),
    "parameter": ("ssm_",), "ssm": ("ssm_",),
    "secret": ("secretsmanager_",), "secrets": ("secretsmanager_",),
    "repository": ("ecr_",), "ecr": ("ecr_",), "registry": ("ecr_",),
    "database": ("db_", "rds_"), "rds": ("db_", "rds_"), "postgres": ("db_", "rds_"),
    "mysql": ("db_", "rds_"), "aurora": ("rds_", "db_"),
    # the synthesizer's other families (a service named outright, `glue`, needs no entry)
    "load": ("lb", "lb_"), "balancer": ("lb", "lb_"), "alb": ("lb", "lb_"), "nlb": ("lb", "lb_"),
    "elb": ("lb", "lb_"), "listener": ("lb", "lb_"), "target": ("lb", "lb_"),
    "autoscaling": ("autoscaling_", "launch_template"), "scaling": ("autoscaling_",),
    "launch": ("launch_template",), "template": ("launch_template",),
    "file": ("efs_",), "filesystem": ("efs_",),
    "api": ("api_gateway_", "apigatewayv2_"), "gateway": ("internet_gateway", "nat_gateway",
                                                          "eip", "vpc", "api_gateway_",
                                                          "apigatewayv2_"),
    "http": ("apigatewayv2_",), "rest": ("api_gateway_",),
    "kubernetes": ("eks_",), "k8s": ("eks_",), "container": ("ecr_", "ecs_"),
    "cluster": ("ecs_cluster", "eks_cluster", "rds_cluster", "elasticache_cluster",
                "redshift_cluster"),
    "service": ("ecs_service",), "task": ("ecs_task_definition",),
    "cdn": ("cloudfront_",), "distribution": ("cloudfront_",),
    "redis": ("elasticache_",), "memcached": ("elasticache_",), "cache": ("elasticache_",),
    "stream": ("kinesis_",), "firehose": ("kinesis_firehose_",),
    "eventbridge": ("cloudwatch_event_",), "event": ("cloudwatch_event_",),
    "events": ("cloudwatch_event_",), "rule": ("cloudwatch_event_",),
    "schedule": ("cloudwatch_event_", "scheduler_"), "certificate": ("acm_",),
    "tls": ("acm_",), "vault": ("backup_",), "nat": ("nat_gateway", "eip"),
    "transit": ("ec2_transit_gateway", "ec2_transit_gateway_"),
    "endpoint": ("vpc_endpoint", "vpc_endpoint_"), "waf": ("wafv2_",), "user-pool": ("cognito_",),
    "pool": ("cognito_",), "crawler": ("glue_",), "catalog": ("glue_",),
    "workgroup": ("athena_",), "warehouse": ("redshift_",),
}
#: Types almost any configuration may use.
ALWAYS = ("iam_role", "iam_policy", "iam_role_policy", "iam_role_policy_attachment",
          "iam_policy_document", "caller_identity", "region", "partition",
          "availability_zones")
_TYPE = re.compile(r"\baws_[a-z0-9_]+")
_WORD = re.compile(r"[a-z0-9-]+")


def likely_types(text: str, schema: dict[str, Any]) -> set[str]:
    """The schema's resource and data source types that `text` (a prompt) calls for."""
    known = set(schema["resource_schemas"]) | set(schema["data_source_schemas"])
    named = {t for t in _TYPE.findall(text) if t in known}
    lowered = text.lower()
    wanted = list(ALWAYS)
    for word in _WORD.findall(lowered):
        wanted += SERVICE_WORDS.get(word, ())
        if len(word) > 2:
            wanted.append(word + "_")  # a service named outright: `glue` → aws_glue_*
    picked = named | {t for t in known if _matches(t[4:], wanted)}
    if len(picked) > MAX_TYPES:
        # keep what the prompt names, then the shortest names (a service's core types)
        rest = sorted(picked - named, key=lambda t: (len(t), t))
        picked = named | set(rest[: max(0, MAX_TYPES - len(named))])
    return picked


def _matches(name: str, wanted: list[str]) -> bool:
    return any(name.startswith(w) if w.endswith("_") else name == w for w in wanted)
