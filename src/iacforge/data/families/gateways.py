"""Gateway families: NAT gateways with private routes, transit gateways, VPC endpoints."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.families.network import subnets, vpc_resource
from iacforge.data.spec import Body, Resource


def nat_gateway(rng: Random, region: str) -> list[Resource]:
    """A VPC with a public and a private subnet, an internet gateway, an Elastic IP, a NAT
    gateway in the public subnet and a private route table that sends 0.0.0.0/0 through it."""
    project, _, env = words(rng)
    main, octet = vpc_resource(rng)
    public, private = subnets(rng, main, octet, region, 2)
    public = Resource("aws_subnet", "public", public.body.with_attrs(
        map_public_ip_on_launch=True))
    private = Resource("aws_subnet", "private", private.body)
    igw = Resource("aws_internet_gateway", "main", Body({"vpc_id": main.ref()}))
    eip = Resource("aws_eip", "nat", Body({"domain": "vpc"}))
    attrs: dict = {"allocation_id": eip.ref(), "subnet_id": public.ref()}
    if t := tags(rng, project, env, p=0.5):
        attrs["tags"] = t
    nat = Resource("aws_nat_gateway", "main", Body(attrs))
    table = Resource("aws_route_table", "private", Body({"vpc_id": main.ref()}, (
        ("route", Body({"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.ref()})),)))
    out = [main, public, private, igw, eip, nat, table]
    if maybe(rng, 0.7):
        out.append(Resource("aws_route_table_association", "private", Body(
            {"subnet_id": private.ref(), "route_table_id": table.ref()})))
    return out


def transit_gateway(rng: Random, region: str) -> list[Resource]:
    """A transit gateway and one or two VPC attachments."""
    project, _, env = words(rng)
    choices = {"amazon_side_asn": (64512, 64513, 65000),
               "default_route_table_association": ("enable", "disable"),
               "default_route_table_propagation": ("enable", "disable"),
               "dns_support": ("enable", "disable"),
               "auto_accept_shared_attachments": ("enable", "disable")}
    attrs: dict = {"description": f"{project} {env} transit gateway",
                   **choose(rng, choices, p=0.4)}
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    tgw = Resource("aws_ec2_transit_gateway", "main", Body(attrs), choices=choices)
    out = [tgw]
    for name in ("app", "shared")[:rng.randint(1, 2)]:
        vpc, octet = vpc_resource(rng, name)
        subnet = Resource("aws_subnet", f"{name}_tgw", Body(
            {"vpc_id": vpc.ref(), "cidr_block": f"10.{octet}.0.0/24"}))
        out += [vpc, subnet, Resource("aws_ec2_transit_gateway_vpc_attachment", name, Body(
            {"subnet_ids": [subnet.ref()], "transit_gateway_id": tgw.ref(),
             "vpc_id": vpc.ref()}))]
    return out


def vpc_endpoint(rng: Random, region: str) -> list[Resource]:
    """A gateway endpoint (S3, DynamoDB) on a route table, or an interface endpoint (SSM, ECR,
    Secrets Manager, …) in a subnet with a security group."""
    main, octet = vpc_resource(rng)
    out = [main]
    if maybe(rng, 0.5):
        service = rng.choice(("s3", "dynamodb"))
        table = Resource("aws_route_table", "private", Body({"vpc_id": main.ref()}))
        out += [table, Resource("aws_vpc_endpoint", service, Body({
            "vpc_id": main.ref(), "service_name": f"com.amazonaws.{region}.{service}",
            "vpc_endpoint_type": "Gateway", "route_table_ids": [table.ref()]}))]
        return out
    service = rng.choice(("ssm", "ecr.api", "ecr.dkr", "secretsmanager", "logs", "sts"))
    subnet = Resource("aws_subnet", "endpoints", Body(
        {"vpc_id": main.ref(), "cidr_block": f"10.{octet}.20.0/24"}))
    group = Resource("aws_security_group", "endpoints", Body(
        {"name": f"{service.replace('.', '-')}-endpoint", "vpc_id": main.ref()}, (
            ("ingress", Body({"from_port": 443, "to_port": 443, "protocol": "tcp",
                              "cidr_blocks": [f"10.{octet}.0.0/16"]})),)))
    attrs: dict = {"vpc_id": main.ref(), "service_name": f"com.amazonaws.{region}.{service}",
                   "vpc_endpoint_type": "Interface", "subnet_ids": [subnet.ref()],
                   "security_group_ids": [group.ref()]}
    if maybe(rng, 0.6):
        attrs["private_dns_enabled"] = rng.choice((True, False))
    out += [subnet, group, Resource("aws_vpc_endpoint", service.replace(".", "_"), Body(attrs),
                                    choices={"private_dns_enabled": (True, False)})]
    return out
