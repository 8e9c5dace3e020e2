"""Database family: RDS instances, maybe in a subnet group of a new VPC."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.families.network import vpc_resource
from iacforge.data.spec import Body, Resource

ENGINES = (("mysql", "8.0"), ("postgres", "16"), ("mariadb", "10.11"), ("postgres", "15"))


def rds(rng: Random, region: str) -> list[Resource]:
    """A database instance with engine, class, storage and backup choices."""
    project, purpose, env = words(rng)
    engine, version = rng.choice(ENGINES)
    choices = {"instance_class": ("db.t3.micro", "db.t3.small", "db.t4g.micro", "db.m5.large"),
               "allocated_storage": (20, 50, 100), "backup_retention_period": (0, 1, 7, 14),
               "storage_encrypted": (True, False), "multi_az": (True, False),
               "deletion_protection": (True, False)}
    attrs: dict = {"identifier": f"{project}-{purpose}-{env}", "engine": engine,
                   "instance_class": rng.choice(choices["instance_class"]),
                   "allocated_storage": rng.choice(choices["allocated_storage"]),
                   "username": rng.choice(("admin_user", "app", "dbadmin")),
                   "password": f"change-me-{rng.randint(10000, 99999)}",
                   "skip_final_snapshot": True}
    if maybe(rng, 0.5):
        attrs["engine_version"] = version
    attrs |= choose(rng, {k: v for k, v in choices.items()
                          if k not in ("instance_class", "allocated_storage")}, p=0.4)
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    out: list[Resource] = []
    if maybe(rng, 0.35):
        main, octet = vpc_resource(rng)
        zones = sorted(rng.sample("abc", 2))
        subnets = [Resource("aws_subnet", f"db_{z}", Body({
            "vpc_id": main.ref(), "cidr_block": f"10.{octet}.{10 + i}.0/24",
            "availability_zone": f"{region}{z}"})) for i, z in enumerate(zones)]
        group = Resource("aws_db_subnet_group", purpose, Body({
            "name": f"{project}-{purpose}-db", "subnet_ids": [s.ref() for s in subnets]}))
        out += [main, *subnets, group]
        attrs["db_subnet_group_name"] = group.ref("name")
    return [*out, Resource("aws_db_instance", purpose, Body(attrs), quiet=frozenset(
        {"password", "username"}), choices=choices)]
