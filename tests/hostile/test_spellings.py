"""Threat: a construct the screen refuses, spelled so that the screen read something else than
terraform does (issue 17). Each test shows terraform 1.11 reading the spelling, and the screen
refusing it through `iacforge verify`'s own path."""

from iacforge.candidate import Candidate
from iacforge.hcl.normalise import normalise
from iacforge.verify.pipeline import Verifier

from .conftest import run_terraform

DUPLICATE_KEYS = (
    '{"resource": {\n'
    '  "terraform_data": {"hidden": {"provisioner": {"local-exec": {"command": "id"}}}},\n'
    '  "terraform_data": {"shown": {}}\n}}\n')
TEMPLATE_OF_ITSELF = (
    '# ${file("/etc/hostname")}\n'
    'output "x" {\n  value = templatefile("main.tf", {})\n}\n')
ESCAPED_TYPE = 'resource "null\\u005fresource" "x" {}\n'
HEREDOC_PROVIDER = (
    'provider "aws" {\r\n  region = "us-east-1"\r\n  default_tags {\r\n'
    '    tags = { note = <<EOT-1\r\n}\r\nEOT-1\r\n    }\r\n  }\r\n'
    '  http_proxy = "http://127.0.0.1:9"\r\n}\r\n'
    'resource "aws_s3_bucket" "b" {}\r\n')


def screened(files: dict[str, str]) -> list[tuple[str, str]]:
    cert = Verifier(stages=["screen"]).verify(Candidate(files))
    return [(d.rule_id.rsplit("/", 1)[1], d.where()) for d in cert.stage("screen").diagnostics]


def validate(terraform, files: dict[str, str], *args: str) -> str:
    out, workspace = run_terraform(terraform, files, *(args or ("validate",)), "-no-color")
    workspace.close()
    return out.stdout + out.stderr


def test_terraform_reads_both_duplicate_json_keys_so_the_screen_refuses_them(terraform):
    files = {"main.tf.json": DUPLICATE_KEYS}
    planned = validate(terraform, files, "plan", "-input=false")
    assert "terraform_data.hidden will be created" in planned  # python's json keeps only "shown"
    assert screened(files) == [("duplicate-key", "main.tf.json:3")]


def test_a_file_read_as_a_template_renders_its_comments(terraform):
    files = {"main.tf": TEMPLATE_OF_ITSELF}
    said = " ".join(validate(terraform, files).split())
    assert 'no file exists at "/etc/hostname"' in said  # it tried: the sandbox hides the host
    assert screened(files) == [("host-path", "main.tf:3")]


def test_an_escaped_label_names_the_provider_terraform_reads(terraform):
    files = {"main.tf": ESCAPED_TYPE}
    assert "hashicorp/null" in validate(terraform, files)
    assert screened(files) == [("provider", "main.tf:1")]


def test_a_crlf_heredoc_with_a_dashed_marker_leaves_no_proxy_for_terraform(terraform):
    normalised = normalise({"main.tf": HEREDOC_PROVIDER}, terraform_version=terraform.version,
                           aws_version=terraform.aws_version).files
    assert "http_proxy" not in normalised["main.tf"]
    assert "Success!" in validate(terraform, normalised)
