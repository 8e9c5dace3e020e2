"""Storage families: S3 buckets and their settings, DynamoDB tables, ECR repositories."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import choose, maybe, tags, words
from iacforge.data.spec import Body, Raw, Resource


def s3(rng: Random, region: str) -> list[Resource]:
    """A bucket, and some of: versioning, encryption, public access block, ownership
    controls, lifecycle rule, access logging to a second bucket."""
    project, purpose, env = words(rng)
    name = f"{project}-{purpose}-{env}-{rng.randint(1000, 99999)}"
    attrs = {"bucket": name, "force_destroy": rng.choice((True, False))} if maybe(rng, 0.5) \
        else {"bucket": name}
    if t := tags(rng, project, env):
        attrs["tags"] = t
    bucket = Resource("aws_s3_bucket", purpose, Body(attrs),
                      choices={"force_destroy": (True, False)})
    out = [bucket]
    ref = bucket.ref()
    if maybe(rng, 0.6):
        status = rng.choice(("Enabled", "Suspended")) if maybe(rng, 0.2) else "Enabled"
        out.append(Resource("aws_s3_bucket_versioning", purpose, Body(
            {"bucket": ref}, (("versioning_configuration", Body({"status": status})),)),
            choices={"status": ("Enabled", "Suspended")}))
    if maybe(rng, 0.5):
        out += _encryption(rng, purpose, ref)
    if maybe(rng, 0.4):
        flags = ("block_public_acls", "block_public_policy", "ignore_public_acls",
                 "restrict_public_buckets")
        value = not maybe(rng, 0.15)
        out.append(Resource("aws_s3_bucket_public_access_block", purpose, Body(
            {"bucket": ref, **{f: value for f in flags}}),
            choices={f: (True, False) for f in flags}))
    if maybe(rng, 0.2):
        owner = rng.choice(("BucketOwnerEnforced", "BucketOwnerPreferred", "ObjectWriter"))
        out.append(Resource("aws_s3_bucket_ownership_controls", purpose, Body(
            {"bucket": ref}, (("rule", Body({"object_ownership": owner})),))))
    if maybe(rng, 0.25):
        days = rng.choice((7, 30, 60, 90, 180, 365))
        rule = Body({"id": f"expire-{purpose}", "status": "Enabled"}, (
            ("filter", Body({"prefix": f"{rng.choice(('tmp', 'logs', 'old', 'cache'))}/"})),
            ("expiration", Body({"days": days}))))
        out.append(Resource("aws_s3_bucket_lifecycle_configuration", purpose, Body(
            {"bucket": ref}, (("rule", rule),))))
    if maybe(rng, 0.15):
        target = Resource("aws_s3_bucket", f"{purpose}_access_logs", Body(
            {"bucket": f"{name}-access-logs"}))
        out += [target, Resource("aws_s3_bucket_logging", purpose, Body(
            {"bucket": ref, "target_bucket": target.ref(), "target_prefix": "access/"}))]
    return out


def _encryption(rng: Random, purpose: str, bucket: object) -> list[Resource]:
    out: list[Resource] = []
    default = {"sse_algorithm": "AES256"}
    if maybe(rng, 0.4):
        key = Resource("aws_kms_key", f"{purpose}_bucket", Body({
            "description": f"Key for the {purpose} bucket",
            "deletion_window_in_days": rng.choice((7, 10, 14, 30))}))
        out.append(key)
        default = {"sse_algorithm": "aws:kms", "kms_master_key_id": key.ref("arn")}
    rule = Body({"bucket_key_enabled": True} if maybe(rng, 0.3) else {},
                (("apply_server_side_encryption_by_default", Body(default)),))
    out.append(Resource("aws_s3_bucket_server_side_encryption_configuration", purpose, Body(
        {"bucket": bucket}, (("rule", rule),))))
    return out


def dynamodb(rng: Random, region: str) -> list[Resource]:
    """A table with a hash (and maybe range) key, billing mode, TTL, recovery, stream."""
    project, purpose, env = words(rng)
    hash_key = rng.choice(("id", "pk", "user_id", "order_id", "tenant_id"))
    attributes = [Body({"name": hash_key, "type": rng.choice(("S", "N"))})]
    attrs: dict = {"name": f"{project}-{purpose}-{env}", "hash_key": hash_key}
    if maybe(rng, 0.5):
        range_key = rng.choice(("sk", "created_at", "timestamp", "version"))
        attrs["range_key"] = range_key
        attributes.append(Body({"name": range_key, "type": rng.choice(("S", "N"))}))
    if maybe(rng, 0.5):
        attrs["billing_mode"] = "PAY_PER_REQUEST"
    else:
        attrs |= {"billing_mode": "PROVISIONED", "read_capacity": rng.choice((1, 5, 10, 20)),
                  "write_capacity": rng.choice((1, 5, 10, 20))}
    if maybe(rng, 0.3):
        attrs |= {"stream_enabled": True,
                  "stream_view_type": rng.choice(("NEW_IMAGE", "NEW_AND_OLD_IMAGES",
                                                  "KEYS_ONLY"))}
    if t := tags(rng, project, env):
        attrs["tags"] = t
    blocks: list[tuple[str, Body]] = [("attribute", a) for a in attributes]
    if maybe(rng, 0.3):
        blocks.append(("ttl", Body({"attribute_name": "expires_at", "enabled": True})))
    if maybe(rng, 0.4):
        blocks.append(("point_in_time_recovery", Body({"enabled": True})))
    if maybe(rng, 0.25):
        blocks.append(("server_side_encryption", Body({"enabled": True})))
    return [Resource("aws_dynamodb_table", purpose, Body(attrs, tuple(blocks)),
                     choices={"read_capacity": (1, 5, 10, 20),
                              "write_capacity": (1, 5, 10, 20)})]


def ecr(rng: Random, region: str) -> list[Resource]:
    """A container repository, maybe with scanning and a lifecycle policy."""
    project, purpose, env = words(rng)
    choices = {"image_tag_mutability": ("MUTABLE", "IMMUTABLE"), "force_delete": (True, False)}
    attrs = {"name": f"{project}/{purpose}-{env}", **choose(rng, choices, p=0.6)}
    if t := tags(rng, project, env, p=0.4):
        attrs["tags"] = t
    scanning = Body({"scan_on_push": rng.choice((True, False))})
    blocks = (("image_scanning_configuration", scanning),) if maybe(rng, 0.6) else ()
    repo = Resource("aws_ecr_repository", purpose, Body(attrs, blocks), choices=choices)
    out = [repo]
    if maybe(rng, 0.4):
        count = rng.choice((5, 10, 20, 30))
        policy = ('jsonencode({\n    rules = [{\n      rulePriority = 1\n'
                  f'      description  = "Keep the last {count} images"\n'
                  '      selection = {\n        tagStatus   = "any"\n'
                  f'        countType   = "imageCountMoreThan"\n        countNumber = {count}\n'
                  '      }\n      action = { type = "expire" }\n    }]\n  })')
        out.append(Resource("aws_ecr_lifecycle_policy", purpose, Body({
            "repository": repo.ref("name"),
            "policy": Raw(policy, contains=("imageCountMoreThan",),
                          phrase=f"that expires all but the last {count} images")})))
    return out
