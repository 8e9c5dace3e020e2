"""Security families: IAM roles and policies, KMS keys, secrets and parameters."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.spec import Body, Raw, Resource

SERVICES = ("ec2.amazonaws.com", "lambda.amazonaws.com", "ecs-tasks.amazonaws.com",
            "glue.amazonaws.com", "states.amazonaws.com")
ACTIONS = (("s3:GetObject", "s3:ListBucket"), ("sqs:SendMessage", "sqs:ReceiveMessage"),
           ("dynamodb:GetItem", "dynamodb:PutItem"), ("logs:CreateLogStream", "logs:PutLogEvents"),
           ("sns:Publish",), ("kms:Decrypt",))
MANAGED = ("arn:aws:iam::aws:policy/ReadOnlyAccess",
           "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
           "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy",
           "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")


def role(rng: Random, name: str, service: str, role_name: str) -> list[Resource]:
    """A role that `service` may assume (one resource, in a list to extend)."""
    trust = ('jsonencode({\n    Version = "2012-10-17"\n    Statement = [{\n'
             '      Effect    = "Allow"\n      Action    = "sts:AssumeRole"\n'
             f'      Principal = {{ Service = "{service}" }}\n    }}]\n  }})')
    attrs: dict = {"name": role_name, "assume_role_policy": Raw(
        trust, contains=(service,), phrase=f"that {service} can assume")}
    if maybe(rng, 0.3):
        attrs["max_session_duration"] = rng.choice((3600, 7200, 14400))
    return [Resource("aws_iam_role", name, Body(attrs),
                     choices={"max_session_duration": (3600, 7200, 14400)})]


def iam(rng: Random, region: str) -> list[Resource]:
    """A role, a customer policy or a managed one attached to it, maybe an instance profile."""
    project, purpose, env = words(rng)
    service = rng.choice(SERVICES)
    short = service.split(".")[0].replace("-", "_")
    out = role(rng, short, service, f"{project}-{purpose}-{env}-role")
    main = out[0]
    if maybe(rng, 0.6):
        actions = rng.choice(ACTIONS)
        listed = ", ".join(f'"{a}"' for a in actions)
        document = ('jsonencode({\n    Version = "2012-10-17"\n    Statement = [{\n'
                    f'      Effect   = "Allow"\n      Action   = [{listed}]\n'
                    '      Resource = "*"\n    }]\n  })')
        attrs: dict = {"name": f"{project}-{purpose}-policy", "policy": Raw(
            document, contains=actions, phrase="allowing " + " and ".join(actions))}
        if maybe(rng, 0.4):
            attrs["description"] = f"Access for {project} {purpose}"
        policy = Resource("aws_iam_policy", purpose, Body(attrs))
        out += [policy, Resource("aws_iam_role_policy_attachment", purpose, Body(
            {"role": main.ref("name"), "policy_arn": policy.ref("arn")}))]
    else:
        out.append(Resource("aws_iam_role_policy_attachment", "managed", Body(
            {"role": main.ref("name"), "policy_arn": rng.choice(MANAGED)})))
    if service == "ec2.amazonaws.com" and maybe(rng, 0.5):
        out.append(Resource("aws_iam_instance_profile", short, Body(
            {"name": f"{project}-{purpose}-profile", "role": main.ref("name")})))
    return out


def kms(rng: Random, region: str) -> list[Resource]:
    """A key with rotation and deletion window choices, maybe an alias."""
    project, purpose, env = words(rng)
    choices = {"deletion_window_in_days": (7, 10, 14, 30), "enable_key_rotation": (True, False),
               "multi_region": (True, False)}
    attrs: dict = {"description": f"{project} {purpose} key ({env})",
                   **choose(rng, choices, p=0.6)}
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    key = Resource("aws_kms_key", purpose, Body(attrs), choices=choices)
    out = [key]
    if maybe(rng, 0.6):
        out.append(Resource("aws_kms_alias", purpose, Body(
            {"name": f"alias/{project}-{purpose}", "target_key_id": key.ref("key_id")})))
    return out


def secrets(rng: Random, region: str) -> list[Resource]:
    """SSM parameters and/or a Secrets Manager secret."""
    project, purpose, env = words(rng)
    out: list[Resource] = []
    for key in rng.sample(("db_host", "api_url", "feature_flags", "log_level", "bucket"),
                          rng.randint(0, 2)):
        kind = rng.choice(("String", "SecureString"))
        attrs: dict = {"name": f"/{project}/{env}/{key}", "type": kind,
                       "value": f"{purpose}-{rng.randint(1, 999)}"}
        if maybe(rng, 0.3):
            attrs["description"] = f"{key.replace('_', ' ')} for {project}"
        quiet = frozenset({"value"}) if kind == "SecureString" else frozenset()
        out.append(Resource("aws_ssm_parameter", key, Body(attrs), quiet=quiet,
                            choices={"type": ("String", "SecureString")}))
    if not out or maybe(rng, 0.5):
        choices = {"recovery_window_in_days": (0, 7, 14, 30)}
        attrs = {"name": f"{project}/{env}/{purpose}", **choose(rng, choices, p=0.5)}
        if maybe(rng, 0.4):
            attrs["description"] = f"{purpose} credentials for {project}"
        if t := tags(rng, project, env, p=0.3):
            attrs["tags"] = t
        out.append(Resource("aws_secretsmanager_secret", purpose, Body(attrs), choices=choices))
    return out
