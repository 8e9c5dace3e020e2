"""Network families: VPCs with subnets, gateways and routes; security groups; DNS zones."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import azs, maybe, tags, words
from iacforge.data.spec import Body, Resource


def vpc_resource(rng: Random, name: str = "main") -> tuple[Resource, int]:
    """A VPC with a random 10.X.0.0/16 block; returns it and X."""
    project, _, env = words(rng)
    octet = rng.randint(0, 250)
    choices = {"enable_dns_hostnames": (True, False), "enable_dns_support": (True, False),
               "instance_tenancy": ("default", "dedicated")}
    attrs: dict = {"cidr_block": f"10.{octet}.0.0/16"}
    for flag in ("enable_dns_hostnames", "enable_dns_support"):
        if maybe(rng, 0.4):
            attrs[flag] = rng.choice((True, False))
    if t := tags(rng, project, env, p=0.5):
        attrs["tags"] = t | {"Name": f"{project}-{env}"} if maybe(rng, 0.5) else t
    return Resource("aws_vpc", name, Body(attrs), choices=choices), octet


def vpc(rng: Random, region: str) -> list[Resource]:
    """A VPC, one to three subnets, maybe an internet gateway with a public route table."""
    main, octet = vpc_resource(rng)
    out = [main]
    count = rng.randint(1, 3)
    zones = azs(region, count, rng)
    kinds = ("public", "private", "data")
    subnets = []
    for i in range(count):
        cidr = f"10.{octet}.{i * 16 + rng.randint(0, 15)}.0/24"
        attrs: dict = {"vpc_id": main.ref(), "cidr_block": cidr}
        if maybe(rng, 0.6):
            attrs["availability_zone"] = zones[i]
        if i == 0 and maybe(rng, 0.4):
            attrs["map_public_ip_on_launch"] = True
        subnets.append(Resource("aws_subnet", kinds[i], Body(attrs),
                                choices={"map_public_ip_on_launch": (True, False)}))
    out += subnets
    if maybe(rng, 0.6):
        igw = Resource("aws_internet_gateway", "main", Body({"vpc_id": main.ref()}))
        out.append(igw)
        if maybe(rng, 0.6):
            table = Resource("aws_route_table", "public", Body({"vpc_id": main.ref()}, (
                ("route", Body({"cidr_block": "0.0.0.0/0", "gateway_id": igw.ref()})),)))
            out += [table, Resource("aws_route_table_association", "public", Body(
                {"subnet_id": subnets[0].ref(), "route_table_id": table.ref()}))]
    if maybe(rng, 0.15):
        out.append(Resource("aws_eip", "nat", Body({"domain": "vpc"})))
    return out


def security_group(rng: Random, region: str) -> list[Resource]:
    """A VPC and a security group, with inline rules or separate rule resources."""
    main, octet = vpc_resource(rng)
    project, purpose, env = words(rng)
    port = rng.choice((22, 80, 443, 3306, 5432, 6379, 8080, 9200))
    source = rng.choice(("0.0.0.0/0", f"10.{octet}.0.0/16", "192.168.0.0/24"))
    attrs: dict = {"name": f"{project}-{purpose}-sg", "vpc_id": main.ref()}
    if maybe(rng, 0.6):
        attrs["description"] = f"Allow port {port} for {purpose}"
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    inline = maybe(rng, 0.5)
    blocks = ()
    if inline:
        blocks = (("ingress", Body({"from_port": port, "to_port": port, "protocol": "tcp",
                                    "cidr_blocks": [source]})),
                  ("egress", Body({"from_port": 0, "to_port": 0, "protocol": "-1",
                                   "cidr_blocks": ["0.0.0.0/0"]})))
    group = Resource("aws_security_group", purpose, Body(attrs, blocks))
    out = [main, group]
    if not inline:
        out.append(Resource("aws_vpc_security_group_ingress_rule", f"{purpose}_in", Body({
            "security_group_id": group.ref(), "cidr_ipv4": source, "from_port": port,
            "to_port": port, "ip_protocol": "tcp"}),
            choices={"from_port": (port, 8443, 8081), "to_port": (port, 8443, 8081)}))
        if maybe(rng, 0.6):
            out.append(Resource("aws_vpc_security_group_egress_rule", f"{purpose}_out", Body({
                "security_group_id": group.ref(), "cidr_ipv4": "0.0.0.0/0",
                "ip_protocol": "-1"})))
    return out


def route53(rng: Random, region: str) -> list[Resource]:
    """A hosted zone and one to three records in it."""
    project, _, env = words(rng)
    domain = f"{project}-{env}.{rng.choice(('com', 'net', 'io', 'org'))}"
    zone_attrs: dict = {"name": domain}
    if maybe(rng, 0.4):
        zone_attrs["comment"] = f"{project} {env} zone"
    zone = Resource("aws_route53_zone", "main", Body(zone_attrs))
    out = [zone]
    for prefix in rng.sample(("www", "api", "app", "mail", "docs"), rng.randint(1, 3)):
        kind = rng.choice(("A", "CNAME", "TXT"))
        value = {"A": f"203.0.113.{rng.randint(1, 254)}", "CNAME": f"{prefix}.example.net",
                 "TXT": f"v=spf1 include:{domain} ~all"}[kind]
        out.append(Resource("aws_route53_record", prefix, Body({
            "zone_id": zone.ref("zone_id"), "name": f"{prefix}.{domain}", "type": kind,
            "ttl": rng.choice((60, 300, 900, 3600)), "records": [value]}),
            choices={"ttl": (60, 300, 900, 3600)}))
    return out


def subnets(rng: Random, main: Resource, octet: int, region: str, n: int = 2, *,
            prefix: str = "app", first: int = 1) -> list[Resource]:
    """`n` subnets of `main` in distinct availability zones (what load balancers, EKS and
    subnet groups ask for)."""
    return [Resource("aws_subnet", f"{prefix}_{zone[-1]}", Body({
        "vpc_id": main.ref(), "cidr_block": f"10.{octet}.{first + i}.0/24",
        "availability_zone": zone})) for i, zone in enumerate(azs(region, n, rng))]
