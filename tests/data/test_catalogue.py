"""The grown catalogue: at least 40 families, every new family schema-clean and described,
one configuration of each new family validated and planned against the emulator, the
family mix balanced by share, and requests worded in every style."""

from __future__ import annotations

from collections import Counter
from random import Random

import pytest

from iacforge.candidate import Candidate
from iacforge.data.describe import styled_request, text
from iacforge.data.families import FAMILIES, NEW_FAMILIES
from iacforge.data.schema import unknown_arguments
from iacforge.data.synth import Counts, Synthesizer, spec_for
from iacforge.formal import FORMAL_STAGES
from iacforge.verify.batch.batched import verify_batched
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier

#: The resource types each new family exists to teach (every spec it makes has one).
CORE = {"alb": {"aws_lb"}, "nlb": {"aws_lb_listener"}, "launch_template": {"aws_launch_template"},
        "autoscaling": {"aws_autoscaling_group"}, "ecs": {"aws_ecs_task_definition"},
        "eks": {"aws_eks_cluster"}, "apigateway_rest": {"aws_api_gateway_method"},
        "apigateway_http": {"aws_apigatewayv2_stage"},
        "cloudfront": {"aws_cloudfront_distribution"}, "wafv2": {"aws_wafv2_web_acl"},
        "acm": {"aws_acm_certificate"}, "efs": {"aws_efs_file_system"},
        "backup": {"aws_backup_plan"}, "elasticache": {"aws_elasticache_cluster"},
        "redshift": {"aws_redshift_cluster"}, "kinesis": {"aws_kinesis_stream"},
        "eventbridge": {"aws_cloudwatch_event_target"},
        "glue": {"aws_glue_catalog_database"},
        "athena": {"aws_athena_workgroup"}, "cognito": {"aws_cognito_user_pool_client"},
        "iam_policy": {"aws_iam_user", "aws_iam_group"}, "nat_gateway": {"aws_nat_gateway"},
        "transit_gateway": {"aws_ec2_transit_gateway_vpc_attachment"},
        "vpc_endpoint": {"aws_vpc_endpoint"}, "s3_notification": {"aws_s3_bucket_notification"},
        "s3_replication": {"aws_s3_bucket_replication_configuration"}}
#: The seed of each new family the plan test verifies (fixed: the test must be repeatable).
PLAN_SEED = 3


def test_the_catalogue_has_at_least_40_families_including_every_new_one():
    assert len(FAMILIES) >= 40
    assert set(NEW_FAMILIES) <= set(FAMILIES) and set(CORE) == set(NEW_FAMILIES)


@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_a_new_family_is_schema_clean_makes_its_service_and_names_every_type(family, schema):
    nouns = text()["nouns"]
    for seed in range(30):
        spec = spec_for(family, seed)[0]
        assert unknown_arguments(spec, schema) == [], (family, seed)
        assert CORE[family] & set(spec.types), (family, seed, spec.types)
        assert [t for t in spec.types if t not in nouns] == []


@pytest.fixture(scope="module")
def new_family_certificates():
    """One configuration of every new family, verified (validate, plan, intent) in one
    batched terraform run: ~1-2 min on an idle 2-core machine."""
    tasks = {f: _task(f, PLAN_SEED) for f in NEW_FAMILIES}
    certs = verify_batched(Verifier(stages=FORMAL_STAGES),
                           [Candidate(t.reference, source=t.id) for t in tasks.values()],
                           [IntentPolicy(t.intent) for t in tasks.values()],
                           batch_size=len(tasks))
    return dict(zip(tasks, certs, strict=True))


@pytest.mark.slow
@pytest.mark.parametrize("family", NEW_FAMILIES)
def test_a_new_family_validates_plans_and_meets_its_intent(family, new_family_certificates):
    cert = new_family_certificates[family]
    assert [(s.stage, s.status) for s in cert.stages if s.stage in ("validate", "plan",
                                                                    "intent")] == [
        ("validate", "pass"), ("plan", "pass"), ("intent", "pass")], cert.why()


def _task(family, seed):
    from iacforge.data.synth import generation_task

    return generation_task(family, seed)[0]


def test_seeds_skip_families_that_have_their_share_and_weights_set_the_shares(tmp_path):
    synth = Synthesizer(tmp_path, families=["s3", "sqs", "kms"], weights={"s3": 2})
    assert synth.quotas(8) == {"s3": 4, "sqs": 2, "kms": 2}
    counts = Counts(families={"sqs": Counter(generate=2)})
    batch, cursor = synth._batch(6, 0, 100, set(), counts, synth.quotas(8))
    assert [synth.families[i % 3] for i in batch] == ["s3", "kms", "s3", "kms", "s3", "s3"]
    # a family whose seeds were dropped keeps getting seeds: here kms wrote none of its 2
    done = {f"synth:{synth.families[i % 3]}:{i}" for i in batch}
    counts = Counts(families={"s3": Counter(generate=4), "sqs": Counter(generate=2)})
    more, _ = synth._batch(3, cursor, 100, done, counts, synth.quotas(8))
    assert {synth.families[i % 3] for i in more} == {"kms"} and len(more) == 2
    # every share met (mutations still wanted): all families again, round robin
    counts.families["kms"] = Counter(generate=2)
    again, _ = synth._batch(3, 30, 100, set(), counts, synth.quotas(8))
    assert again == [30, 31, 32]
    with pytest.raises(ValueError, match="unknown families"):
        Synthesizer(tmp_path, weights={"nope": 1})


def test_requests_come_in_every_style_deterministically_and_state_every_item():
    seen: dict[str, list[str]] = {}
    for seed in range(120):
        family = sorted(FAMILIES)[seed % len(FAMILIES)]
        spec, _ = spec_for(family, seed)
        style, prompt = styled_request(spec, Random(seed))
        assert styled_request(spec, Random(seed)) == (style, prompt)
        seen.setdefault(style, []).append(prompt)
    assert set(seen) == {"plain", "terse", "verbose", "bullets", "prose"}
    assert all(len(v) >= 8 for v in seen.values()), {k: len(v) for k, v in seen.items()}
    assert all("\n" in p and p.splitlines()[0].endswith(":") for p in seen["bullets"])
    assert not any("\n" in p for style in ("plain", "terse", "prose") for p in seen[style])
    mean = {k: sum(map(len, v)) / len(v) for k, v in seen.items()}
    assert mean["verbose"] > mean["plain"] > 0
    # prose: one sentence per block, so more sentences than blocks-joined-by-semicolons
    assert any(p.count(". ") >= 2 and ";" not in p for p in seen["prose"])
