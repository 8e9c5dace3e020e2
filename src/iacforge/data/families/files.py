"""File system and backup families: EFS file systems, mount targets and access points;
AWS Backup vaults, plans and selections."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.families.network import vpc_resource
from iacforge.data.families.security import role
from iacforge.data.spec import Body, Resource


def efs(rng: Random, region: str) -> list[Resource]:
    """A file system with performance, throughput, encryption and lifecycle choices, maybe a
    mount target in a new subnet and an access point."""
    project, purpose, env = words(rng)
    choices = {"performance_mode": ("generalPurpose", "maxIO"),
               "throughput_mode": ("bursting", "elastic"), "encrypted": (True, False)}
    attrs: dict = {"creation_token": f"{project}-{purpose}-{env}", **choose(rng, choices, p=0.5)}
    if t := tags(rng, project, env, p=0.5):
        attrs["tags"] = t
    blocks = ()
    if maybe(rng, 0.4):
        blocks = (("lifecycle_policy", Body({"transition_to_ia": rng.choice((
            "AFTER_7_DAYS", "AFTER_30_DAYS", "AFTER_90_DAYS"))})),)
    fs = Resource("aws_efs_file_system", purpose, Body(attrs, blocks), choices=choices)
    out = [fs]
    if maybe(rng, 0.5):
        main, octet = vpc_resource(rng)
        subnet = Resource("aws_subnet", "efs", Body(
            {"vpc_id": main.ref(), "cidr_block": f"10.{octet}.30.0/24"}))
        out += [main, subnet, Resource("aws_efs_mount_target", purpose, Body(
            {"file_system_id": fs.ref(), "subnet_id": subnet.ref()}))]
    if maybe(rng, 0.4):
        uid = rng.choice((1000, 1001, 33))
        out.append(Resource("aws_efs_access_point", purpose, Body({"file_system_id": fs.ref()}, (
            ("posix_user", Body({"uid": uid, "gid": uid})),
            ("root_directory", Body({"path": f"/{purpose}"}, (("creation_info", Body({
                "owner_uid": uid, "owner_gid": uid, "permissions": "0755"})),)))))))
    return out


def backup(rng: Random, region: str) -> list[Resource]:
    """A vault (maybe with a KMS key), a daily or weekly plan with a retention rule, and
    maybe a tag-based selection with its role."""
    project, purpose, env = words(rng)
    out: list[Resource] = []
    vault_attrs: dict = {"name": f"{project}-{env}-vault"}
    if maybe(rng, 0.3):
        key = Resource("aws_kms_key", "backup", Body({"description": f"{project} backups"}))
        out.append(key)
        vault_attrs["kms_key_arn"] = key.ref("arn")
    if t := tags(rng, project, env, p=0.3):
        vault_attrs["tags"] = t
    vault = Resource("aws_backup_vault", "main", Body(vault_attrs))
    days = rng.choice((7, 14, 30, 35, 90, 365))
    schedule = rng.choice(("cron(0 5 * * ? *)", "cron(0 3 ? * SUN *)", "cron(30 1 * * ? *)"))
    rule = Body({"rule_name": f"{purpose}-{'weekly' if 'SUN' in schedule else 'daily'}",
                 "target_vault_name": vault.ref("name"), "schedule": schedule},
                (("lifecycle", Body({"delete_after": days})),))
    plan = Resource("aws_backup_plan", purpose, Body({"name": f"{project}-{purpose}-plan"},
                                                     (("rule", rule),)))
    out += [vault, plan]
    if maybe(rng, 0.5):
        service_role = role(rng, "backup", "backup.amazonaws.com", f"{project}-{env}-backup")
        attach = Resource("aws_iam_role_policy_attachment", "backup", Body({
            "role": service_role[0].ref("name"), "policy_arn":
            "arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"}))
        out += [*service_role, attach, Resource("aws_backup_selection", purpose, Body({
            "name": f"{purpose}-tagged", "plan_id": plan.ref(),
            "iam_role_arn": service_role[0].ref("arn")}, (("selection_tag", Body({
                "type": "STRINGEQUALS", "key": "Backup",
                "value": rng.choice(("daily", "true", "critical"))})),)))]
    return out
