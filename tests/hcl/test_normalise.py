"""Normalise: account settings, unmeetable pins and backends go; every other line stays put.

The end-to-end check (such a candidate passes terraform validate and plan for real) is in
tests/verify/stages/test_plan.py, which shares its plan with the pipeline tests.
"""

import json

import pytest

from iacforge.hcl.normalise import normalise

TF, AWS = "1.11.4", "5.100.0"

ACCOUNT = """\
terraform {
  required_version = "~> 0.12"
  backend "s3" {
    bucket = "state"
    key    = "network/terraform.tfstate"
  }
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 3.0"
    }
  }
}

provider "aws" {
  region                   = "us-west-2" # kept
  profile                  = "prod"
  shared_credentials_files = ["~/.aws/credentials"]
  access_key               = "AKIAEXAMPLE"
  secret_key               = "secret"
  assume_role {
    role_arn = "arn:aws:iam::123456789012:role/deploy"
  }
  endpoints {
    s3 = "http://localhost:4566"
  }
  default_tags {
    tags = { Team = "platform" }
  }
}

resource "aws_s3_bucket" "logs" {
  bucket = "logs"
}
"""
#: 1-based lines of ACCOUNT that normalisation rewrites.
CHANGED = {2, 3, 4, 5, 6, 8, 9, 10, 11, *range(17, 27)}


def run(text: str, name: str = "main.tf"):
    return normalise({name: text}, terraform_version=TF, aws_version=AWS)


def by_summary(result) -> dict[str, object]:
    return {d.summary: d for d in result.diagnostics}


def test_every_unchanged_line_keeps_its_number_and_text():
    out = run(ACCOUNT).files["main.tf"]
    before, after = ACCOUNT.split("\n"), out.split("\n")
    assert len(after) == len(before)
    changed = {n for n, (a, b) in enumerate(zip(before, after, strict=True), 1) if a != b}
    assert changed == CHANGED


def test_account_settings_are_removed_and_the_rest_of_the_provider_kept():
    out = run(ACCOUNT).files["main.tf"]
    for gone in ("profile", "shared_credentials_files", "AKIAEXAMPLE", "secret",
                 "assume_role", "role_arn", "endpoints", "localhost"):
        assert gone not in out
    assert 'region                   = "us-west-2" # kept' in out
    assert "tags = { Team = \"platform\" }" in out
    assert all(not line.strip() for line in out.split("\n")[16:26])


def test_the_provider_note_lists_what_was_removed_at_the_provider_line():
    note = by_summary(run(ACCOUNT))["Provider account settings ignored"]
    assert note.severity == "info"
    assert (note.file, note.line, note.address) == ("main.tf", 15, "provider.aws")
    assert note.detail.startswith(
        "removed access_key, assume_role, endpoints, profile, secret_key, "
        "shared_credentials_files:"
    )


def test_a_required_version_excluding_the_installed_terraform_is_a_warning():
    note = by_summary(run(ACCOUNT))["required_version ignored"]
    assert (note.severity, note.line) == ("warning", 2)
    assert "'~> 0.12'" in note.detail and TF in note.detail


def test_an_unmeetable_aws_constraint_is_a_warning_naming_it():
    note = by_summary(run(ACCOUNT))["aws provider version constraint cannot be met offline"]
    assert (note.severity, note.line) == ("warning", 8)
    assert "'~> 3.0'" in note.detail and AWS in note.detail
    out = run(ACCOUNT).files["main.tf"]
    assert 'aws = { source = "hashicorp/aws" }' in out
    assert "~> 3.0" not in out


def test_a_remote_backend_is_a_warning():
    note = by_summary(run(ACCOUNT))['backend "s3" ignored']
    assert (note.severity, note.line) == ("warning", 3)
    assert 'bucket = "state"' not in run(ACCOUNT).files["main.tf"]


def test_a_cloud_block_is_removed_like_a_backend():
    text = 'terraform {\n  cloud {\n    organization = "acme"\n  }\n}\n'
    result = run(text)
    assert "organization" not in result.files["main.tf"]
    assert [d.summary for d in result.diagnostics] == ["cloud ignored"]


def test_constraints_the_offline_tools_meet_are_removed_silently():
    text = (
        'terraform {\n  required_version = ">= 1.5"\n  required_providers {\n'
        '    aws = {\n      source  = "hashicorp/aws"\n      version = "~> 5.0"\n    }\n'
        "  }\n}\n"
    )
    result = run(text)
    assert result.diagnostics == ()
    assert ">= 1.5" not in result.files["main.tf"]
    assert result.files["main.tf"].count("\n") == text.count("\n")


def test_a_legacy_string_constraint_is_replaced():
    text = 'terraform {\n  required_providers {\n    aws = "~> 2.70"\n  }\n}\n'
    result = run(text)
    assert 'aws = { source = "hashicorp/aws" }' in result.files["main.tf"]
    assert [d.detail.split(";")[0] for d in result.diagnostics] == [
        "constraint '~> 2.70' excludes the mirrored hashicorp/aws 5.100.0"
    ]


def test_a_version_inside_the_provider_block_is_removed():
    """Left in, a legacy provider-block constraint contradicts the lock file at plan time."""
    text = 'provider "aws" {\n  version = "~> 2.0"\n  region  = "us-east-1"\n}\n'
    result = run(text)
    assert result.files["main.tf"].split("\n")[1].strip() == ""
    assert 'region  = "us-east-1"' in result.files["main.tf"]
    assert [(d.summary, d.line) for d in result.diagnostics] == [
        ("aws provider version constraint cannot be met offline", 2)
    ]


def test_a_one_line_provider_block_is_handled():
    result = run('provider "aws" { profile = "prod" }\n')
    assert result.files["main.tf"].strip() == 'provider "aws" {                  }'


def test_other_providers_and_resources_are_left_alone():
    text = (
        'provider "google" {\n  project = "p"\n  credentials = "key.json"\n}\n'
        'resource "aws_instance" "web" {\n  profile = "not a provider argument"\n}\n'
    )
    result = run(text)
    assert result.files["main.tf"] == text
    assert result.diagnostics == ()


def test_strings_comments_and_heredocs_do_not_confuse_the_scanner():
    text = (
        "# provider \"aws\" { profile = \"in a comment\" }\n"
        'provider "aws" {\n'
        '  region  = "us-east-1" // profile = "x" }\n'
        '  profile = "a}b"\n'
        "}\n"
        'resource "aws_iam_policy" "p" {\n'
        "  policy = <<EOT\n"
        '{"profile": "}"}\n'
        "EOT\n"
        "}\n"
    )
    lines = run(text).files["main.tf"].split("\n")
    assert lines[0] == text.split("\n")[0]
    assert lines[2] == '  region  = "us-east-1" // profile = "x" }'
    assert lines[3].strip() == ""
    assert lines[5:] == text.split("\n")[5:]


HEREDOC_PROVIDER = (
    'provider "aws" {\n'
    '  region = "us-east-1"\n'
    "  default_tags {\n"
    "    tags = { note = <<EOT-1\n"
    "}\n"
    "EOT-1\n"
    "    }\n"
    "  }\n"
    '  http_proxy = "http://proxy.example:3128"\n'
    '  profile    = "prod"\n'
    "}\n"
)


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_heredoc_marker_with_a_dash_or_crlf_lines_does_not_stop_the_scanner(newline):
    # terraform 1.11 validates both spellings: a marker is an HCL identifier (`-` allowed),
    # and CRLF ends lines like LF; the `}` inside the heredoc is text
    text = HEREDOC_PROVIDER.replace("\n", newline)
    result = run(text)
    kept = result.files["main.tf"]
    assert "http_proxy" not in kept and "profile" not in kept
    assert "EOT-1" in kept and kept.count(newline) == text.count(newline)
    (note,) = result.diagnostics
    assert note.detail.startswith("removed http_proxy, profile:")


def test_several_files_are_normalised_independently():
    result = normalise(
        {"versions.tf": 'terraform {\n  backend "s3" {}\n}\n',
         "providers.tf": 'provider "aws" {\n  profile = "p"\n}\n'},
        terraform_version=TF, aws_version=AWS,
    )
    assert {(d.file, d.summary) for d in result.diagnostics} == {
        ("versions.tf", 'backend "s3" ignored'),
        ("providers.tf", "Provider account settings ignored"),
    }


TF_JSON = {
    "provider": {"aws": [{"region": "us-east-1", "profile": "prod", "version": "~> 2.0",
                          "assume_role": {"role_arn": "arn:aws:iam::1:role/x"}}]},
    "terraform": {
        "required_version": "~> 0.12",
        "backend": {"s3": {"bucket": "state"}},
        "required_providers": {"aws": {"source": "hashicorp/aws", "version": "~> 3.0"}},
    },
    "resource": {"aws_s3_bucket": {"logs": {"bucket": "logs"}}},
}


def test_tf_json_is_normalised_the_same_way():
    result = run(json.dumps(TF_JSON), "main.tf.json")
    doc = json.loads(result.files["main.tf.json"])
    assert doc == {
        "provider": {"aws": [{"region": "us-east-1"}]},
        "terraform": {"required_providers": {"aws": {"source": "hashicorp/aws"}}},
        "resource": {"aws_s3_bucket": {"logs": {"bucket": "logs"}}},
    }
    notes = {(d.severity, d.summary) for d in result.diagnostics}
    assert notes == {
        ("info", "Provider account settings ignored"),
        ("warning", "required_version ignored"),
        ("warning", 'backend "s3" ignored'),
        ("warning", "aws provider version constraint cannot be met offline"),
    }
    details = " ".join(d.detail for d in result.diagnostics)
    assert "'~> 3.0'" in details and "'~> 2.0'" in details and "'~> 0.12'" in details
    assert all(d.file == "main.tf.json" for d in result.diagnostics)


@pytest.mark.parametrize(
    "text",
    ['{"resource": ', "[1, 2]", '{"resource": {"aws_s3_bucket": {"b": {}}}}'],
    ids=["invalid", "not-an-object", "nothing-to-change"],
)
def test_tf_json_that_needs_nothing_or_cannot_be_read_is_returned_unchanged(text):
    result = run(text, "main.tf.json")
    assert result.files["main.tf.json"] == text
    assert result.diagnostics == ()
