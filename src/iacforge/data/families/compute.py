"""Compute families: EC2 instances from an `aws_ami` lookup, Lambda functions."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.families.network import vpc_resource
from iacforge.data.families.security import role
from iacforge.data.spec import Body, Resource

#: AMI lookups the emulator's catalogue answers (verify/terraform/amis.json): owner, name pattern,
#: words.
AMIS = (
    ("099720109477", "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*", "Ubuntu 22.04"),
    ("099720109477", "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
     "Ubuntu 24.04"),
    ("137112412989", "al2023-ami-2023.*-x86_64", "Amazon Linux 2023"),
    ("137112412989", "amzn2-ami-hvm-*-x86_64-gp2", "Amazon Linux 2"),
    ("136693071363", "debian-12-amd64-*", "Debian 12"),
)
INSTANCE_TYPES = ("t3.micro", "t3.small", "t3.medium", "t2.micro", "m5.large", "c5.large")


def ami(rng: Random) -> Resource:
    owner, pattern, _ = rng.choice(AMIS)
    return Resource("aws_ami", "selected", Body({"most_recent": True, "owners": [owner]}, (
        ("filter", Body({"name": "name", "values": [pattern]})),)), mode="data")


def ec2(rng: Random, region: str) -> list[Resource]:
    """An instance from an AMI lookup; maybe in a new subnet, with a volume or an EIP."""
    project, purpose, env = words(rng)
    image = ami(rng)
    out = [image]
    choices = {"instance_type": INSTANCE_TYPES, "monitoring": (True, False),
               "associate_public_ip_address": (True, False)}
    attrs: dict = {"ami": image.ref(), "instance_type": rng.choice(INSTANCE_TYPES)}
    attrs |= choose(rng, {k: v for k, v in choices.items() if k != "instance_type"}, p=0.3)
    if maybe(rng, 0.3):
        main, octet = vpc_resource(rng)
        subnet = Resource("aws_subnet", "app", Body({"vpc_id": main.ref(),
                                                     "cidr_block": f"10.{octet}.1.0/24"}))
        out += [main, subnet]
        attrs["subnet_id"] = subnet.ref()
    attrs["tags"] = {"Name": f"{project}-{purpose}-{env}"} | tags(rng, project, env, p=0.4)
    blocks = ()
    if maybe(rng, 0.4):
        blocks = (("root_block_device", Body({
            "volume_size": rng.choice((8, 16, 20, 30, 50, 100)),
            "volume_type": rng.choice(("gp2", "gp3")), "encrypted": rng.choice((True, False))})),)
    instance = Resource("aws_instance", purpose, Body(attrs, blocks), choices=choices)
    out.append(instance)
    if maybe(rng, 0.2):
        zone = f"{region}{rng.choice('abc')}"
        volume = Resource("aws_ebs_volume", f"{purpose}_data", Body({
            "availability_zone": zone, "size": rng.choice((10, 20, 50, 100)),
            "type": rng.choice(("gp3", "gp2", "standard"))}),
            choices={"size": (10, 20, 50, 100)})
        out += [volume, Resource("aws_volume_attachment", f"{purpose}_data", Body({
            "device_name": "/dev/sdf", "volume_id": volume.ref(), "instance_id": instance.ref()}))]
    elif maybe(rng, 0.2):
        out.append(Resource("aws_eip", purpose, Body({"instance": instance.ref(),
                                                      "domain": "vpc"})))
    return out


def lambda_(rng: Random, region: str) -> list[Resource]:
    """A function whose code is an object in a new bucket, its role, maybe a log group."""
    project, purpose, env = words(rng)
    name = f"{project}-{purpose}-{env}"
    execution = role(rng, "lambda", "lambda.amazonaws.com", f"{name}-role")
    bucket = Resource("aws_s3_bucket", "code", Body(
        {"bucket": f"{name}-code-{rng.randint(1000, 99999)}"}))
    runtime, handler = rng.choice((("python3.12", "app.handler"), ("python3.11", "main.handler"),
                                   ("nodejs20.x", "index.handler"), ("java21", "App::handle")))
    choices = {"memory_size": (128, 256, 512, 1024), "timeout": (3, 10, 30, 60, 300)}
    attrs: dict = {"function_name": name, "role": execution[0].ref("arn"), "runtime": runtime,
                   "handler": handler, "s3_bucket": bucket.ref(),
                   "s3_key": f"{purpose}/{rng.choice(('v1', 'v2', 'latest'))}.zip"}
    attrs |= choose(rng, choices, p=0.6)
    if t := tags(rng, project, env, p=0.3):
        attrs["tags"] = t
    blocks = ()
    if maybe(rng, 0.4):
        blocks = (("environment", Body({"variables": {
            "STAGE": env, "TABLE": f"{project}-{purpose}"}})),)
    out = [*execution, bucket, Resource("aws_lambda_function", purpose, Body(attrs, blocks),
                                        choices=choices)]
    if maybe(rng, 0.4):
        out.append(Resource("aws_cloudwatch_log_group", f"{purpose}_fn", Body({
            "name": f"/aws/lambda/{name}",
            "retention_in_days": rng.choice((7, 14, 30, 90))}),
            choices={"retention_in_days": (7, 14, 30, 90)}))
    return out
