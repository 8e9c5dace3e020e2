"""Load balancing families: application and network load balancers, target groups,
listeners, launch templates and auto scaling groups."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.families.compute import INSTANCE_TYPES, ami
from iacforge.data.families.network import subnets, vpc_resource
from iacforge.data.spec import Body, Resource

LB_CHOICES = {"internal": (True, False), "idle_timeout": (60, 120, 300),
              "enable_deletion_protection": (True, False)}


def alb(rng: Random, region: str) -> list[Resource]:
    """An application load balancer in two subnets with a security group, an HTTP target
    group with a health check, and a listener that forwards to it (or answers itself)."""
    project, purpose, env = words(rng)
    main, octet = vpc_resource(rng)
    nets = subnets(rng, main, octet, region, 2, prefix="public")
    group = Resource("aws_security_group", "alb", Body(
        {"name": f"{project}-{env}-alb", "vpc_id": main.ref()}, (
            ("ingress", Body({"from_port": 80, "to_port": 80, "protocol": "tcp",
                              "cidr_blocks": ["0.0.0.0/0"]})),
            ("egress", Body({"from_port": 0, "to_port": 0, "protocol": "-1",
                             "cidr_blocks": ["0.0.0.0/0"]})))))
    attrs: dict = {"name": f"{project}-{env}-alb", "load_balancer_type": "application",
                   "security_groups": [group.ref()], "subnets": [s.ref() for s in nets],
                   **choose(rng, {k: v for k, v in LB_CHOICES.items()}, p=0.35)}
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    lb = Resource("aws_lb", "web", Body(attrs), choices=LB_CHOICES)
    out = [main, *nets, group, lb]
    if maybe(rng, 0.25):
        action = Body({"type": "fixed-response"}, (("fixed_response", Body({
            "content_type": "text/plain", "message_body": f"{project} is up",
            "status_code": rng.choice(("200", "503"))})),))
    else:
        port = rng.choice((80, 8080, 3000))
        check = Body({"path": rng.choice(("/", "/health", "/healthz")), "matcher": "200",
                      "interval": rng.choice((15, 30, 60))})
        target = Resource("aws_lb_target_group", purpose, Body({
            "name": f"{project}-{purpose}-tg", "port": port, "protocol": "HTTP",
            "vpc_id": main.ref(), "target_type": rng.choice(("instance", "ip"))},
            (("health_check", check),)), choices={"port": (80, 8080, 3000)})
        out.append(target)
        action = Body({"type": "forward", "target_group_arn": target.ref("arn")})
    out.append(Resource("aws_lb_listener", "http", Body(
        {"load_balancer_arn": lb.ref("arn"), "port": 80, "protocol": "HTTP"},
        (("default_action", action),))))
    return out


def nlb(rng: Random, region: str) -> list[Resource]:
    """A network load balancer, a TCP target group and a TCP listener."""
    project, purpose, env = words(rng)
    main, octet = vpc_resource(rng)
    nets = subnets(rng, main, octet, region, rng.randint(1, 2), prefix="lb")
    attrs: dict = {"name": f"{project}-{env}-nlb", "load_balancer_type": "network",
                   "subnets": [s.ref() for s in nets],
                   **choose(rng, {"internal": (True, False),
                                  "enable_cross_zone_load_balancing": (True, False)}, p=0.4)}
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    lb = Resource("aws_lb", "net", Body(attrs), choices={"internal": (True, False)})
    port = rng.choice((443, 22, 5432, 6379, 1883))
    target = Resource("aws_lb_target_group", purpose, Body({
        "name": f"{project}-{purpose}-{port}", "port": port, "protocol": "TCP",
        "vpc_id": main.ref(), "target_type": rng.choice(("instance", "ip"))}))
    listener = Resource("aws_lb_listener", "tcp", Body(
        {"load_balancer_arn": lb.ref("arn"), "port": port, "protocol": "TCP"},
        (("default_action", Body({"type": "forward", "target_group_arn": target.ref("arn")})),
         )))
    return [main, *nets, lb, target, listener]


def launch_template(rng: Random, region: str) -> list[Resource]:
    """A launch template from an AMI lookup, maybe with a root volume, monitoring, metadata
    options, and an instance launched from it."""
    project, purpose, env = words(rng)
    image = ami(rng)
    choices = {"instance_type": INSTANCE_TYPES, "ebs_optimized": ("true", "false")}
    attrs: dict = {"name": f"{project}-{purpose}-{env}", "image_id": image.ref(),
                   "instance_type": rng.choice(INSTANCE_TYPES)}
    if maybe(rng, 0.3):
        attrs["update_default_version"] = True
    blocks: list[tuple[str, Body]] = []
    if maybe(rng, 0.4):
        blocks.append(("block_device_mappings", Body({"device_name": "/dev/xvda"}, (
            ("ebs", Body({"volume_size": rng.choice((8, 20, 30, 50)), "volume_type": "gp3",
                          "encrypted": "true"})),))))
    if maybe(rng, 0.4):
        blocks.append(("monitoring", Body({"enabled": True})))
    if maybe(rng, 0.4):
        blocks.append(("metadata_options", Body({"http_tokens": "required",
                                                 "http_endpoint": "enabled"})))
    if t := tags(rng, project, env, p=0.4):
        blocks.append(("tag_specifications", Body({"resource_type": "instance", "tags": t})))
    template = Resource("aws_launch_template", purpose, Body(attrs, tuple(blocks)),
                        choices=choices)
    out = [image, template]
    if maybe(rng, 0.35):
        out.append(Resource("aws_instance", purpose, Body({}, (("launch_template", Body(
            {"id": template.ref(), "version": "$Latest"})),))))
    return out


def autoscaling(rng: Random, region: str) -> list[Resource]:
    """An auto scaling group of a launch template across subnets, maybe with a target
    tracking policy on CPU."""
    project, purpose, env = words(rng)
    image = ami(rng)
    main, octet = vpc_resource(rng)
    nets = subnets(rng, main, octet, region, rng.randint(1, 2))
    template = Resource("aws_launch_template", purpose, Body({
        "name_prefix": f"{project}-{purpose}-", "image_id": image.ref(),
        "instance_type": rng.choice(INSTANCE_TYPES)}))
    low = rng.choice((1, 2))
    high = low + rng.choice((1, 2, 4))
    attrs: dict = {"name": f"{project}-{purpose}-{env}", "min_size": low, "max_size": high,
                   "desired_capacity": low, "vpc_zone_identifier": [s.ref() for s in nets]}
    if maybe(rng, 0.4):
        attrs["health_check_type"] = "EC2"
        attrs["health_check_grace_period"] = rng.choice((60, 120, 300))
    group = Resource("aws_autoscaling_group", purpose, Body(attrs, (("launch_template", Body(
        {"id": template.ref(), "version": "$Latest"})),)),
        choices={"max_size": (high, high + 1, high + 3)})
    out = [image, main, *nets, template, group]
    if maybe(rng, 0.4):
        target = rng.choice((40, 50, 60, 70))
        out.append(Resource("aws_autoscaling_policy", "cpu", Body({
            "name": f"{project}-{purpose}-cpu", "autoscaling_group_name": group.ref("name"),
            "policy_type": "TargetTrackingScaling"}, (("target_tracking_configuration", Body(
                {"target_value": target}, (("predefined_metric_specification", Body(
                    {"predefined_metric_type": "ASGAverageCPUUtilization"})),))),))))
    return out
