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


CACHE_ENGINES = (("redis", "default.redis7", 6379, 1), ("memcached", "default.memcached1.6",
                                                         11211, 2))


def elasticache(rng: Random, region: str) -> list[Resource]:
    """A Redis or Memcached cluster, maybe in a subnet group of a new VPC."""
    project, purpose, env = words(rng)
    engine, parameters, port, nodes = rng.choice(CACHE_ENGINES)
    choices = {"node_type": ("cache.t3.micro", "cache.t3.small", "cache.t4g.micro",
                             "cache.m5.large")}
    attrs: dict = {"cluster_id": f"{project}-{purpose}-{env}"[:40], "engine": engine,
                   "node_type": rng.choice(choices["node_type"]),
                   "num_cache_nodes": nodes if engine == "redis" else rng.choice((1, 2, 3)),
                   "parameter_group_name": parameters}
    if maybe(rng, 0.5):
        attrs["port"] = port
    if engine == "redis" and maybe(rng, 0.3):
        attrs["snapshot_retention_limit"] = rng.choice((1, 5, 7))
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    out: list[Resource] = []
    if maybe(rng, 0.4):
        main, octet = vpc_resource(rng)
        subnet = Resource("aws_subnet", "cache", Body(
            {"vpc_id": main.ref(), "cidr_block": f"10.{octet}.40.0/24"}))
        group = Resource("aws_elasticache_subnet_group", purpose, Body({
            "name": f"{project}-{purpose}-cache", "subnet_ids": [subnet.ref()]}))
        out += [main, subnet, group]
        attrs["subnet_group_name"] = group.ref("name")
    return [*out, Resource("aws_elasticache_cluster", purpose, Body(attrs), choices=choices)]


def redshift(rng: Random, region: str) -> list[Resource]:
    """A single- or multi-node cluster with a database, encryption and snapshot choices."""
    project, purpose, env = words(rng)
    nodes = rng.choice((1, 1, 2, 4))
    choices = {"encrypted": (True, False), "publicly_accessible": (True, False),
               "automated_snapshot_retention_period": (1, 7, 14)}
    attrs: dict = {"cluster_identifier": f"{project}-{purpose}-{env}",
                   "database_name": f"{purpose}db",
                   "master_username": rng.choice(("admin_user", "awsuser")),
                   "master_password": f"Change-me-{rng.randint(10000, 99999)}",
                   "node_type": rng.choice(("ra3.xlplus", "ra3.4xlarge", "dc2.large")),
                   "cluster_type": "single-node" if nodes == 1 else "multi-node",
                   "skip_final_snapshot": True, **choose(rng, choices, p=0.4)}
    if nodes > 1:
        attrs["number_of_nodes"] = nodes
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    return [Resource("aws_redshift_cluster", purpose, Body(attrs),
                     quiet=frozenset({"master_username"}), choices=choices)]
