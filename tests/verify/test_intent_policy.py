"""IntentPolicy: reading a policy file and the facts read off its text."""

from pathlib import Path

import pytest

from iacforge.errors import IacforgeError
from iacforge.verify.intent_policy import IntentPolicy

POLICIES = Path(__file__).parents[1] / "fixtures" / "intent" / "policies"


def test_from_file_reads_text_and_names_policy_after_file():
    policy = IntentPolicy.from_file(POLICIES / "s3_versioning_v0.rego")
    assert policy.name == "s3_versioning_v0.rego"
    assert policy.text.startswith("# Intent: an S3 bucket")


def test_from_file_missing_says_which_file(tmp_path):
    with pytest.raises(IacforgeError, match=r"nope\.rego does not exist"):
        IntentPolicy.from_file(tmp_path / "nope.rego")


def test_from_file_not_utf8_says_so(tmp_path):
    path = tmp_path / "latin1.rego"
    path.write_bytes("package p\n# caf\xe9\n".encode("latin-1"))
    with pytest.raises(IacforgeError, match="is not UTF-8 text"):
        IntentPolicy.from_file(path)


@pytest.mark.parametrize(
    ("name", "v1"),
    [("s3_versioning_v0.rego", False), ("s3_versioning_v1.rego", True)],
)
def test_v1_follows_import_rego_v1(name, v1):
    assert IntentPolicy.from_file(POLICIES / name).v1 is v1


def test_v1_ignores_import_in_a_comment():
    policy = IntentPolicy("package p\n# no need to import rego.v1 here\np { true }\n")
    assert policy.v1 is False


def test_package_is_the_dotted_path_and_empty_when_missing():
    assert IntentPolicy.from_file(POLICIES / "s3_versioning_v1.rego").package == (
        "terraform.validation"
    )
    assert IntentPolicy("default allow := false\n").package == ""


def test_rule_names_are_top_level_heads_without_functions_or_body_lines():
    policy = IntentPolicy(
        "package p\n"
        "import rego.v1\n"
        "default allow := false\n"
        "allow if {\n"
        "    x := input.a\n"
        "    helper(x)\n"
        "}\n"
        "helper(x) if x > 1\n"
        "names contains n if { some n in input.names }\n"
        "limits.max := 3\n"
    )
    assert policy.rule_names == ("allow", "names", "limits")


def test_top_rule_prefers_is_valid():
    policy = IntentPolicy(
        "package p\nis_valid_a { true }\nis_valid { is_valid_a }\nis_configuration_valid { true }\n"
    )
    assert policy.top_rule == "is_valid"


def test_top_rule_is_the_single_unreferenced_valid_rule():
    policy = IntentPolicy.from_file(POLICIES / "s3_versioning_v0.rego")
    assert policy.top_rule == "is_configuration_valid"


def test_top_rule_counts_a_full_data_path_as_a_reference():
    policy = IntentPolicy(
        "package a.b\nis_valid_part { true }\nis_all_valid { data.a.b.is_valid_part }\n"
    )
    assert policy.top_rule == "is_all_valid"


@pytest.mark.parametrize(
    "mention",
    [
        "# is_all_valid does not use is_valid_part\nis_all_valid { true }",
        'is_all_valid { input.note != "is_valid_part" }',
    ],
)
def test_top_rule_ignores_names_in_comments_and_strings(mention):
    policy = IntentPolicy(f"package p\nis_valid_part {{ true }}\n{mention}\n")
    assert policy.top_rule is None  # both rules are unreferenced: no single top rule


def test_top_rule_none_without_valid_rules_and_not_invalid():
    assert IntentPolicy.from_file(POLICIES / "no_top_rule_v1.rego").top_rule is None
    assert IntentPolicy("package p\nis_invalid { true }\n").top_rule is None


def test_content_hash_follows_text_only():
    a = IntentPolicy("package p\n", name="a.rego")
    assert a.content_hash() == IntentPolicy("package p\n", name="b.rego").content_hash()
    assert a.content_hash() != IntentPolicy("package q\n").content_hash()
