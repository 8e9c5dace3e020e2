"""Container families: ECS clusters, Fargate task definitions and services; EKS clusters."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import maybe, tags, words
from iacforge.data.families.network import subnets, vpc_resource
from iacforge.data.families.security import role
from iacforge.data.spec import Body, Raw, Resource

IMAGES = (("nginx:1.27", 80), ("httpd:2.4", 80), ("redis:7", 6379),
          ("public.ecr.aws/docker/library/node:20", 3000), ("grafana/grafana:11.1.0", 3000))
SIZES = (("256", "512"), ("512", "1024"), ("1024", "2048"))


def ecs(rng: Random, region: str) -> list[Resource]:
    """A cluster (maybe with Container Insights), a Fargate task definition with one
    container, its execution role, and maybe a service in a new subnet."""
    project, purpose, env = words(rng)
    settings = (("setting", Body({"name": "containerInsights",
                                  "value": rng.choice(("enabled", "disabled"))})),) \
        if maybe(rng, 0.5) else ()
    cluster_attrs: dict = {"name": f"{project}-{env}"}
    if t := tags(rng, project, env, p=0.4):
        cluster_attrs["tags"] = t
    cluster = Resource("aws_ecs_cluster", "main", Body(cluster_attrs, settings))
    execution = role(rng, "task_execution", "ecs-tasks.amazonaws.com",
                     f"{project}-{purpose}-exec")
    attach = Resource("aws_iam_role_policy_attachment", "task_execution", Body({
        "role": execution[0].ref("name"), "policy_arn":
        "arn:aws:iam::aws:policy/service-role/AmazonECSTaskExecutionRolePolicy"}))
    image, port = rng.choice(IMAGES)
    cpu, memory = rng.choice(SIZES)
    container = ('jsonencode([{\n    name      = "app"\n'
                 f'    image     = "{image}"\n    essential = true\n'
                 f'    portMappings = [{{ containerPort = {port}, protocol = "tcp" }}]\n  }}])')
    task = Resource("aws_ecs_task_definition", purpose, Body({
        "family": f"{project}-{purpose}", "requires_compatibilities": ["FARGATE"],
        "network_mode": "awsvpc", "cpu": cpu, "memory": memory,
        "execution_role_arn": execution[0].ref("arn"),
        "container_definitions": Raw(container, contains=(image,),
                                     phrase=f"running the container image {image} on port "
                                            f"{port}")}))
    out = [cluster, *execution, attach, task]
    if maybe(rng, 0.5):
        main, octet = vpc_resource(rng)
        nets = subnets(rng, main, octet, region, 1)
        count = rng.choice((1, 2, 3))
        service = Resource("aws_ecs_service", purpose, Body({
            "name": f"{project}-{purpose}", "cluster": cluster.ref(),
            "task_definition": task.ref("arn"), "desired_count": count,
            "launch_type": "FARGATE"}, (("network_configuration", Body({
                "subnets": [s.ref() for s in nets],
                "assign_public_ip": rng.choice((True, False))})),)),
            choices={"desired_count": (1, 2, 3, 4)})
        out += [main, *nets, service]
    return out


def eks(rng: Random, region: str) -> list[Resource]:
    """An EKS cluster with its IAM role (and the cluster policy attached) in two subnets."""
    project, _, env = words(rng)
    name = f"{project}-{env}"
    cluster_role = role(rng, "eks_cluster", "eks.amazonaws.com", f"{name}-eks-cluster")
    attach = Resource("aws_iam_role_policy_attachment", "eks_cluster", Body({
        "role": cluster_role[0].ref("name"),
        "policy_arn": "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"}))
    main, octet = vpc_resource(rng)
    nets = subnets(rng, main, octet, region, 2, prefix="eks")
    vpc_config: dict = {"subnet_ids": [s.ref() for s in nets]}
    if maybe(rng, 0.5):
        vpc_config["endpoint_public_access"] = rng.choice((True, False))
        vpc_config["endpoint_private_access"] = True
    attrs: dict = {"name": name, "role_arn": cluster_role[0].ref("arn")}
    if maybe(rng, 0.6):
        attrs["version"] = rng.choice(("1.29", "1.30", "1.31"))
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    cluster = Resource("aws_eks_cluster", "main", Body(attrs, (("vpc_config", Body(vpc_config)),)),
                       choices={"version": ("1.29", "1.30", "1.31")})
    return [*cluster_role, attach, main, *nets, cluster]
