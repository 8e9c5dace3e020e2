"""The family catalogue: schema-clean, deterministic, requests that state what intents check."""

from __future__ import annotations

import json
import re

import pytest

from iacforge.data.describe import value_text
from iacforge.data.families import FAMILIES
from iacforge.data.intent import checked
from iacforge.data.schema import unknown_arguments
from iacforge.data.spec import Body, Raw, Resource, Spec
from iacforge.data.synth import generation_task, spec_for
from iacforge.verify.intent_policy import IntentPolicy

SEEDS = range(40)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_argument_a_family_sets_is_in_the_provider_schema(family, schema):
    problems = [p for seed in SEEDS for p in unknown_arguments(spec_for(family, seed)[0], schema)]
    assert problems == []


def test_the_schema_check_names_unknown_and_computed_arguments(schema):
    spec = Spec((Resource("aws_s3_bucket", "b", Body({"bucket": "x", "bucket_nmae": "y",
                                                      "arn": "z"})),
                 Resource("aws_nonexistent", "n", Body())))
    assert unknown_arguments(spec, schema) == [
        "aws_s3_bucket.b: bucket_nmae: unknown argument",
        "aws_s3_bucket.b: arn: computed only, cannot be set",
        "aws_nonexistent.n: no such resource type"]


def test_the_same_seed_makes_the_same_task_and_seeds_differ():
    first = [generation_task(f, s)[0].to_record() for f in FAMILIES for s in range(3)]
    again = [generation_task(f, s)[0].to_record() for f in FAMILIES for s in range(3)]
    assert first == again
    assert len({json.dumps(r["reference"]) for r in first}) == len(first)


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_the_request_states_every_value_the_intent_checks(family):
    for seed in range(10):
        task, spec = generation_task(family, seed)
        for resource in spec.resources:
            for value in _checked_values(resource.body, resource.quiet):
                assert value in task.prompt or _named(value, task.prompt), (
                    task.id, value, task.prompt)
            assert f'"{resource.type}"' in task.intent


def test_intents_are_v1_in_the_validation_package_with_one_rule_per_block():
    for family in FAMILIES:
        task, spec = generation_task(family, 1)
        policy = IntentPolicy(task.intent)
        assert (policy.v1, policy.package, policy.top_rule) == (
            True, "terraform.validation", "is_valid")
        assert len(policy.rule_names) == len(spec.resources) + 1


def _named(value: str, prompt: str) -> bool:
    """Whether the prompt names a resource `value` unquoted ("named app-logs", "called 'jobs'")."""
    bare = re.escape(json.loads(value) if value.startswith('"') else value)
    return re.search(rf"\b(named|called) ('{bare}'|{bare}(?![\w/-]|\.\w))", prompt) is not None


def test_requests_name_a_resource_by_its_name_at_times():
    """IaC-Eval's prompts (and scripts/demo's) say `a bucket named 'x'`: so do some requests,
    with the name the reference sets and the intent checks."""
    named = 0
    for seed in range(40):
        task, spec = generation_task("s3", seed)
        bucket = next(r for r in spec.resources if r.type == "aws_s3_bucket").body.attrs["bucket"]
        if any(f"{word} {form}" in task.prompt for word in ("named", "called")
               for form in (bucket, f"'{bucket}'", f'"{bucket}"')):
            named += 1
            assert f'bucket "{bucket}"' not in task.prompt, task.prompt  # said once
    assert 5 <= named <= 30


def _checked_values(body: Body, quiet: frozenset[str]) -> list[str]:
    found = []
    for name, value in body.attrs.items():
        if not checked(name, value, quiet) or isinstance(value, Raw):
            continue
        if isinstance(value, dict):
            found += [f'{k} = "{v}"' for k, v in value.items()]
        elif isinstance(value, str | int | float | bool):
            found.append(value_text(value))
    for _, inner in body.blocks:
        found += _checked_values(inner, frozenset())
    return found
