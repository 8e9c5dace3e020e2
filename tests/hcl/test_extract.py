"""Extract: LLM replies, files and raw bytes become a Candidate, and bad input never raises."""

import json
from pathlib import Path

import pytest

from iacforge.hcl.extract import from_bytes, from_path, from_text

FENCE = "```"
BUCKET = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'
VARIABLE = 'variable "region" {\n  type = string\n}\n'
TF_JSON = '{"resource": {"aws_s3_bucket": {"logs": {"bucket": "logs"}}}}\n'
IAM_POLICY = (
    '{"Version": "2012-10-17", "Statement": '
    '[{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}\n'
)


def fenced(body: str, info: str = "hcl") -> str:
    return f"{FENCE}{info}\n{body}{FENCE}\n"


@pytest.mark.parametrize("info", ["hcl", "terraform", "tf", "HCL", "hcl2", ""])
def test_a_fenced_terraform_block_becomes_main_tf(info):
    candidate = from_text(f"Here you go:\n\n{fenced(BUCKET, info)}\nThat creates a bucket.")
    assert candidate.files == {"main.tf": BUCKET}
    assert candidate.problems == ()


def test_a_json_block_holding_terraform_becomes_main_tf_json():
    candidate = from_text(fenced(TF_JSON, "json"))
    assert candidate.files == {"main.tf.json": TF_JSON}


def test_bare_hcl_without_fences_is_the_whole_reply():
    assert from_text(BUCKET).files == {"main.tf": BUCKET}


def test_bare_terraform_json_without_fences_is_main_tf_json():
    assert from_text(TF_JSON).files == {"main.tf.json": TF_JSON}


def test_tilde_fences_work_like_backticks():
    assert from_text(f"~~~hcl\n{VARIABLE}~~~\n").files == {"main.tf": VARIABLE}


def test_file_names_come_from_bold_lines_before_each_block():
    reply = (
        "Two files.\n\n**main.tf**\n" + fenced(BUCKET)
        + "\n**variables.tf**\n" + fenced(VARIABLE)
        + "\nThen run terraform apply."
    )
    assert from_text(reply).files == {"main.tf": BUCKET, "variables.tf": VARIABLE}


def test_file_names_come_from_the_fence_info():
    reply = fenced(BUCKET, "terraform storage.tf") + fenced(VARIABLE, 'hcl title="inputs.tf"')
    assert from_text(reply).files == {"storage.tf": BUCKET, "inputs.tf": VARIABLE}


def test_file_names_come_from_a_first_comment_line():
    body = "# variables.tf\n" + VARIABLE
    assert from_text(fenced(body)).files == {"variables.tf": body}


def test_a_json_block_hinted_tf_json_keeps_its_name():
    reply = "`network.tf.json`:\n" + fenced(TF_JSON, "json")
    assert from_text(reply).files == {"network.tf.json": TF_JSON}


def test_duplicate_names_are_kept_apart_not_overwritten():
    first = 'resource "aws_s3_bucket" "a" {}\n'
    second = 'resource "aws_s3_bucket" "b" {}\n'
    reply = "**main.tf**\n" + fenced(first) + "\n**main.tf**\n" + fenced(second)
    assert from_text(reply).files == {"main.tf": first, "main_2.tf": second}


def test_unnamed_blocks_get_distinct_names():
    files = from_text(fenced(BUCKET) + fenced(VARIABLE) + fenced(TF_JSON, "json")).files
    assert files == {"main.tf": BUCKET, "main_2.tf": VARIABLE, "main.tf.json": TF_JSON}


def test_an_unclosed_fence_runs_to_the_end_of_the_reply():
    candidate = from_text(f"Here:\n{FENCE}hcl\n{BUCKET}")
    assert candidate.files == {"main.tf": BUCKET}


def test_crlf_line_endings_still_close_the_fence():
    reply = fenced(VARIABLE).replace("\n", "\r\n")
    assert from_text(reply).files == {"main.tf": VARIABLE}


def test_a_json_block_that_is_not_terraform_is_ignored():
    """An IAM policy document shown beside the code is not a .tf.json file."""
    reply = "The policy:\n" + fenced(IAM_POLICY, "json") + "\nThe code:\n" + fenced(BUCKET)
    assert from_text(reply).files == {"main.tf": BUCKET}


def test_shell_and_tfvars_blocks_are_ignored():
    reply = (
        fenced("terraform init\nterraform apply main.tf\n", "bash")
        + "**terraform.tfvars**\n" + fenced('region = "us-east-1"\n')
        + fenced('region = "eu-west-1"\n', "tfvars")
        + fenced(VARIABLE)
    )
    assert from_text(reply).files == {"main.tf": VARIABLE}


@pytest.mark.parametrize(
    "reply",
    [
        "You can create the bucket in the AWS console under S3 > Create bucket.",
        fenced("terraform apply\n", "bash"),
        fenced(IAM_POLICY, "json"),
        fenced("", "hcl"),
    ],
    ids=["prose", "shell-only", "iam-policy-only", "empty-block"],
)
def test_a_reply_without_terraform_is_a_clear_problem(reply):
    candidate = from_text(reply)
    assert candidate.files == {}
    assert candidate.problems == ("no Terraform code found in the text (prose only?)",)


@pytest.mark.parametrize("text", ["", "  \n\t\n"])
def test_empty_text_is_a_problem(text):
    assert from_text(text).problems == ("input is empty",)


def test_oversize_text_is_a_problem():
    candidate = from_text(BUCKET * 10, max_bytes=100)
    assert candidate.files == {}
    assert candidate.problems == ("input is larger than 100 bytes",)


def test_bytes_named_tf_are_one_file_whatever_they_hold():
    candidate = from_bytes(b"not even hcl {", name="main.tf", source="x")
    assert candidate.files == {"main.tf": "not even hcl {"}


def test_bytes_from_stdin_are_read_as_an_llm_reply():
    reply = ("**main.tf**\n" + fenced(BUCKET)).encode()
    candidate = from_bytes(reply, name="<stdin>", source="<stdin>")
    assert candidate.files == {"main.tf": BUCKET}
    assert candidate.source == "<stdin>"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"\x7fELF\x02\x01\x01\x00\x00\x00", "main.tf: binary data (NUL bytes), not Terraform"),
        (b"PK\x03\x04rest-of-zip", "main.tf: looks like an archive"),
        (b"\x1f\x8b\x08\x00gzip", "main.tf: looks like an archive"),
        ('bucket = "café"'.encode("latin-1"), "main.tf: not UTF-8 (bad byte at offset 13)"),
        (b"", "main.tf: file is empty"),
        (b"  \n", "main.tf: file is empty"),
        (b"#" * 101, "main.tf: larger than the limit of 100 bytes"),
    ],
    ids=["binary", "zip", "gzip", "latin-1", "empty", "blank", "oversize"],
)
def test_bad_bytes_become_problems_not_exceptions(data, problem):
    candidate = from_bytes(data, name="main.tf", source="x", max_bytes=100)
    assert candidate.files == {}
    assert len(candidate.problems) == 1
    assert candidate.problems[0].startswith(problem)


def test_a_directory_yields_every_tf_and_tf_json_file_below_it(tmp_path: Path):
    (tmp_path / "modules/queue").mkdir(parents=True)
    (tmp_path / ".terraform/modules").mkdir(parents=True)
    (tmp_path / "main.tf").write_text(BUCKET)
    (tmp_path / "extra.tf.json").write_text(TF_JSON)
    (tmp_path / "modules/queue/main.tf").write_text(VARIABLE)
    (tmp_path / ".terraform/modules/cached.tf").write_text("ignored")
    (tmp_path / "README.md").write_text("ignored")
    (tmp_path / "terraform.tfvars").write_text('region = "x"\n')
    candidate = from_path(tmp_path)
    assert candidate.files == {
        "main.tf": BUCKET,
        "extra.tf.json": TF_JSON,
        "modules/queue/main.tf": VARIABLE,
    }
    assert candidate.problems == ()
    assert candidate.source == str(tmp_path)


def test_a_directory_with_a_bad_file_reports_it_by_name(tmp_path: Path):
    (tmp_path / "main.tf").write_text(BUCKET)
    (tmp_path / "legacy.tf").write_bytes("# café\n".encode("latin-1"))
    candidate = from_path(tmp_path)
    assert candidate.problems == ("legacy.tf: not UTF-8 (bad byte at offset 5)",)


def test_symlinks_in_a_directory_are_not_followed(tmp_path: Path):
    (tmp_path / "main.tf").write_text(BUCKET)
    outside = tmp_path.parent / f"{tmp_path.name}-outside.tf"
    outside.write_text(VARIABLE)
    (tmp_path / "secret.tf").symlink_to(outside)
    candidate = from_path(tmp_path)
    assert "secret.tf" not in candidate.files
    assert candidate.problems == ("secret.tf: not a regular file (symlinks are not followed)",)


def test_a_directory_over_the_size_limit_is_a_problem(tmp_path: Path):
    for n in range(3):
        (tmp_path / f"f{n}.tf").write_text("#" * 60 + "\n")
    assert from_path(tmp_path, max_bytes=100).problems[-1] == (
        f"{tmp_path}: candidate is larger than 100 bytes"
    )


def test_missing_and_empty_paths_are_problems(tmp_path: Path):
    missing = tmp_path / "nope"
    assert from_path(missing).problems == (f"{missing}: no such file or directory",)
    assert from_path(tmp_path).problems == (
        f"{tmp_path}: no .tf or .tf.json files (the directory is empty)",)


def test_a_markdown_file_is_read_as_an_llm_reply(tmp_path: Path):
    reply = tmp_path / "reply.md"
    reply.write_text("**main.tf**\n" + fenced(BUCKET))
    assert from_path(reply).files == {"main.tf": BUCKET}


def test_a_tf_json_file_keeps_its_name(tmp_path: Path):
    path = tmp_path / "stack.tf.json"
    path.write_text(TF_JSON)
    candidate = from_path(path)
    assert candidate.files == {"stack.tf.json": TF_JSON}
    assert json.loads(candidate.files["stack.tf.json"])["resource"]
