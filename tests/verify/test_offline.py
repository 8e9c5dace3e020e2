"""Offline gaps: providers the mirror lacks and modules that would be downloaded."""

import json

from iacforge.hcl.parse import parse_files
from iacforge.verify.terraform.offline import offline_gaps, used_providers


def model(files: dict[str, str]):
    outcome = parse_files(files)
    assert outcome.model is not None, outcome.diagnostics
    return outcome.model


def test_providers_are_found_from_resources_data_provider_blocks_and_requirements():
    m = model({"main.tf": (
        'terraform {\n  required_providers {\n    tls = { source = "hashicorp/tls" }\n  }\n}\n'
        'provider "google" {}\n'
        'resource "aws_s3_bucket" "b" {}\n'
        'data "http" "ip" {\n  url = "https://example.com"\n}\n'
        'resource "terraform_data" "d" {}\n'
    )})
    assert used_providers(m) == {
        "tls": "terraform.required_providers",
        "google": "provider.google",
        "aws": "aws_s3_bucket.b",
        "http": "data.http.ip",
        "terraform": "terraform_data.d",
    }


def test_tf_json_requirements_are_read_too():
    doc = {"terraform": {"required_providers": {"random": {"source": "hashicorp/random"}}}}
    assert used_providers(model({"main.tf.json": json.dumps(doc)})) == {
        "random": "terraform.required_providers"}


def test_only_aws_and_builtin_terraform_are_available():
    m = model({"main.tf": 'resource "null_resource" "n" {}\nresource "terraform_data" "d" {}\n'
                          'resource "aws_sqs_queue" "q" {}\n'})
    (gap,) = offline_gaps(m)
    assert (gap.summary, gap.address, gap.rule_id) == (
        "provider 'null' is not available offline", "null_resource.n",
        "iacforge/offline-provider")


def test_local_modules_are_fine_and_remote_ones_are_gaps():
    m = model({"main.tf": (
        'module "a" {\n  source = "./modules/a"\n}\n'
        'module "b" {\n  source = "../shared/b"\n}\n'
        'module "c" {\n  source = "git::https://example.com/c.git"\n}\n'
        'module "d" {\n  source = "terraform-aws-modules/s3-bucket/aws"\n}\n'
    )})
    gaps = offline_gaps(m)
    assert [(g.address, g.line) for g in gaps] == [("module.c", 7), ("module.d", 10)]
    assert all(g.rule_id == "iacforge/remote-module" for g in gaps)
