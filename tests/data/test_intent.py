"""Symbolic intents judged by regorus on hand-made plan documents (no terraform)."""

from __future__ import annotations

import copy

from iacforge.data.intent import intent_for_spec, intent_from_plan
from iacforge.data.spec import Body, Raw, Resource, Spec
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.rego import evaluate

VPC = Resource("aws_vpc", "main", Body({"cidr_block": "10.1.0.0/16", "tags": {"Team": "data"}}))
SUBNET = Resource("aws_subnet", "a", Body({"vpc_id": VPC.ref(), "cidr_block": "10.1.1.0/24"}))
ROLE = Resource("aws_iam_role", "r", Body({"assume_role_policy": Raw(
    "jsonencode({})", contains=("lambda.amazonaws.com",))}), quiet=frozenset())
SPEC = Spec((VPC, SUBNET, ROLE))

PLAN = {
    "planned_values": {"root_module": {"resources": [
        {"address": "aws_vpc.net", "type": "aws_vpc",
         "values": {"cidr_block": "10.1.0.0/16", "tags": {"Team": "data"}}},
        {"address": "aws_subnet.one", "type": "aws_subnet",
         "values": {"cidr_block": "10.1.1.0/24"}},
        {"address": "aws_iam_role.x", "type": "aws_iam_role",
         "values": {"assume_role_policy": '{"Principal":{"Service":"lambda.amazonaws.com"}}'}},
    ]}},
    "configuration": {"root_module": {"resources": [
        {"address": "aws_vpc.net", "mode": "managed", "type": "aws_vpc", "name": "net",
         "expressions": {"cidr_block": {"constant_value": "10.1.0.0/16"}}},
        {"address": "aws_subnet.one", "mode": "managed", "type": "aws_subnet", "name": "one",
         "expressions": {"vpc_id": {"references": ["aws_vpc.net.id", "aws_vpc.net"]},
                         "cidr_block": {"constant_value": "10.1.1.0/24"}}},
        {"address": "aws_iam_role.x", "mode": "managed", "type": "aws_iam_role", "name": "x",
         "expressions": {}},
    ]}},
}


def _valid(policy_text: str, plan: dict) -> bool:
    return evaluate(IntentPolicy(policy_text), plan)["is_valid"]


def test_the_intent_holds_on_a_plan_with_other_names_but_the_same_facts():
    assert _valid(intent_for_spec(SPEC), PLAN)


def test_the_intent_fails_when_a_value_a_tag_a_reference_or_a_document_fact_differs():
    cases = [("planned_values", 0, "values", "cidr_block", "10.9.0.0/16"),
             ("planned_values", 0, "values", "tags", {"Team": "web"}),
             ("configuration", 1, "expressions", "vpc_id", {"references": ["aws_eip.x.id"]}),
             ("planned_values", 2, "values", "assume_role_policy", "{}")]
    for section, index, key, name, value in cases:
        plan = copy.deepcopy(PLAN)
        plan[section]["root_module"]["resources"][index][key][name] = value
        assert not _valid(intent_for_spec(SPEC), plan), name


def test_count_rules_pin_the_number_of_resources_of_a_type():
    assert _valid(intent_for_spec(SPEC, counts=[("aws_subnet", 1)]), PLAN)
    assert not _valid(intent_for_spec(SPEC, counts=[("aws_subnet", 2)]), PLAN)


def test_an_intent_derived_from_a_plan_holds_on_that_plan_and_checks_its_literals():
    policy = intent_from_plan(PLAN)
    assert _valid(policy, PLAN)
    assert '"10.1.1.0/24"' in policy and 'startswith(ref0_0, "aws_vpc.")' in policy
    changed = copy.deepcopy(PLAN)
    changed["planned_values"]["root_module"]["resources"][1]["values"]["cidr_block"] = "x"
    assert not _valid(policy, changed)
    assert intent_from_plan({"configuration": {"root_module": {}}}) is None


def test_sibling_blocks_with_nested_blocks_get_their_own_variables():
    """Two WAF rules, each with a visibility_config: once `b10` twice, a Rego compile error."""
    def rule(name: str) -> tuple[str, Body]:
        return ("rule", Body({"name": name}, blocks=(("visibility_config", Body({
            "metric_name": name})),)))
    acl = Resource("aws_wafv2_web_acl", "w", Body({"name": "acl"},
                                                  blocks=(rule("one"), rule("two"))))
    policy_text = intent_for_spec(Spec((acl,)))
    plan = {"planned_values": {"root_module": {"resources": [
        {"address": "aws_wafv2_web_acl.w", "type": "aws_wafv2_web_acl", "values": {
            "name": "acl", "rule": [{"name": n, "visibility_config": [{"metric_name": n}]}
                                    for n in ("one", "two")]}}]}},
        "configuration": {"root_module": {"resources": []}}}
    assert _valid(policy_text, plan)
    plan["planned_values"]["root_module"]["resources"][0]["values"]["rule"][1][
        "visibility_config"][0]["metric_name"] = "other"
    assert not _valid(policy_text, plan)
