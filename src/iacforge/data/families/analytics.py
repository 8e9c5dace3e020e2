"""Analytics families: Glue catalog databases, tables and crawlers; Athena workgroups."""

from __future__ import annotations

from random import Random

from iacforge.data.families._words import maybe, tags, words
from iacforge.data.families.security import role
from iacforge.data.spec import Body, Resource

COLUMNS = (("id", "string"), ("created_at", "timestamp"), ("amount", "double"),
           ("user_id", "bigint"), ("country", "string"), ("status", "string"))


def _bucket(rng: Random, project: str, purpose: str, suffix: str) -> Resource:
    return Resource("aws_s3_bucket", suffix, Body(
        {"bucket": f"{project}-{purpose}-{suffix}-{rng.randint(1000, 99999)}"}))


def _s3_path(bucket: Resource, prefix: str) -> str:
    """`s3://<bucket name>/<prefix>/` (a literal: nested blocks keep no expressions when a
    configuration is read back into a spec)."""
    return f"s3://{bucket.body.attrs['bucket']}/{prefix}/"


def glue(rng: Random, region: str) -> list[Resource]:
    """A catalog database over a bucket, an external Parquet table or a crawler (with its
    role) that fills it."""
    project, purpose, env = words(rng)
    bucket = _bucket(rng, project, purpose, "lake")
    db_attrs: dict = {"name": f"{project}_{purpose}_{env}"}
    if maybe(rng, 0.4):
        db_attrs["description"] = f"{project} {purpose} catalog"
    database = Resource("aws_glue_catalog_database", purpose, Body(db_attrs))
    out = [bucket, database]
    if maybe(rng, 0.6):
        columns = rng.sample(COLUMNS, rng.randint(2, 4))
        storage = Body({"location": _s3_path(bucket, purpose),
                        "input_format":
                        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat",
                        "output_format":
                        "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"}, (
            ("ser_de_info", Body({"serialization_library":
                                  "org.apache.hadoop.hive.ql.io.parquet.serde."
                                  "ParquetHiveSerDe"})),
            *(("columns", Body({"name": n, "type": t})) for n, t in columns)))
        out.append(Resource("aws_glue_catalog_table", purpose, Body({
            "name": purpose, "database_name": database.ref("name"),
            "table_type": "EXTERNAL_TABLE"}, (("storage_descriptor", storage),))))
    if len(out) == 2 or maybe(rng, 0.4):
        crawler_role = role(rng, "glue", "glue.amazonaws.com", f"{project}-{purpose}-crawler")
        attrs: dict = {"name": f"{project}-{purpose}-crawler",
                       "database_name": database.ref("name"), "role": crawler_role[0].ref("arn")}
        if maybe(rng, 0.5):
            attrs["schedule"] = rng.choice(("cron(0 1 * * ? *)", "cron(0 */6 * * ? *)"))
        out += [*crawler_role, Resource("aws_glue_crawler", purpose, Body(attrs, (
            ("s3_target", Body({"path": _s3_path(bucket, "raw")})),)))]
    return out


def athena(rng: Random, region: str) -> list[Resource]:
    """A workgroup writing query results to a bucket, maybe a database and a named query."""
    project, purpose, env = words(rng)
    results = _bucket(rng, project, purpose, "results")
    result_config = Body({"output_location": _s3_path(results, "results")})
    if maybe(rng, 0.4):
        result_config = Body(result_config.attrs, (("encryption_configuration", Body(
            {"encryption_option": "SSE_S3"})),))
    config: dict = {"enforce_workgroup_configuration": rng.choice((True, False)),
                    "publish_cloudwatch_metrics_enabled": rng.choice((True, False))}
    if maybe(rng, 0.3):
        config["bytes_scanned_cutoff_per_query"] = rng.choice((10485760, 1073741824))
    attrs: dict = {"name": f"{project}-{purpose}-{env}"}
    if maybe(rng, 0.4):
        attrs["description"] = f"Queries over {project} {purpose}"
    if maybe(rng, 0.3):
        attrs["force_destroy"] = True
    if t := tags(rng, project, env, p=0.3):
        attrs["tags"] = t
    group = Resource("aws_athena_workgroup", purpose, Body(attrs, (("configuration", Body(
        config, (("result_configuration", result_config),))),)))
    out = [results, group]
    if maybe(rng, 0.5):
        database = Resource("aws_athena_database", purpose, Body({
            "name": f"{project}_{purpose}", "bucket": results.ref("bucket")}))
        out.append(database)
        if maybe(rng, 0.6):
            out.append(Resource("aws_athena_named_query", purpose, Body({
                "name": f"sample-{purpose}", "workgroup": group.ref(),
                "database": database.ref("name"),
                "query": f"SELECT * FROM {purpose} LIMIT 10;"})))
    return out
