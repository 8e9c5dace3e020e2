"""`iacforge verify` as a user runs it (a subprocess), beside the Python API on the same input.

Every bad input ends in a certificate with a clear diagnostic and the documented exit code:
0 pass, 1 fail, 2 usage error, 3 verifier error, 4 setup problem; never a traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from pydantic_sarif.model import StaticAnalysisResultsFormatSarifVersion210JsonSchema as Sarif

from iacforge.certificate import Certificate
from iacforge.commands.verify import exit_code
from iacforge.config import Settings
from iacforge.diagnostics import StageResult
from iacforge.errors import SetupError
from iacforge.hcl.extract import from_bytes, from_path
from iacforge.reward import reward
from iacforge.verify.pipeline import Verifier

FIXTURES = Path(__file__).parents[1] / "fixtures"
TASK = FIXTURES / "tasks/vpc_two_subnets_in_two_azs"
ALL = ("extract", "parse", "validate", "plan", "intent", "security", "lint")
REPLY = (FIXTURES / "replies/two_files_fenced.md").read_bytes()


def iacforge(*args: str, stdin: bytes = b"", env: dict[str, str] | None = None):
    """Run `python -m iacforge.cli verify ARGS`; the completed process, text decoded."""
    # --no-cache: judge for real every run, not from an earlier run's verdict cache
    result = subprocess.run(
        [sys.executable, "-m", "iacforge.cli", "verify", "--no-cache", *args],
        input=stdin, capture_output=True, timeout=600, env=os.environ | (env or {}),
    )
    stderr = result.stderr.decode()
    assert "Traceback" not in stderr, stderr
    return result.returncode, result.stdout.decode(), stderr


def summary(stages: list[dict]) -> list[tuple[str, str, list[str]]]:
    """(stage, status, diagnostic summaries) of a certificate's JSON stages."""
    return [(s["stage"], s["status"], [d["summary"] for d in s["diagnostics"]]) for s in stages]


@dataclass(frozen=True)
class BadInput:
    """One kind of input, how to hand it over (a path, or stdin bytes) and what it must yield."""

    id: str
    path: str | None  # relative to the inputs directory; None means stdin
    stdin: bytes
    stages: str | None
    failed: str  # the first stage that does not pass, or "" when all pass
    problem: str  # the start of that stage's first error summary
    exit: int


CASES = [
    BadInput("binary", "binary.tf", b"", None, "extract",
             "binary.tf: binary data (NUL bytes), not Terraform", 1),
    BadInput("non-utf8", "latin1.tf", b"", None, "extract",
             "latin1.tf: not UTF-8 (bad byte at offset", 1),
    BadInput("empty", "empty.tf", b"", None, "extract", "empty.tf: file is empty", 1),
    BadInput("10MB", "huge.tf", b"", None, "extract",
             "huge.tf: larger than the limit of 2000000 bytes", 1),
    BadInput("unbalanced-braces", "unbalanced.tf", b"", None, "parse",
             "Unexpected end of file (unbalanced braces or brackets?)", 1),
    BadInput("no-code", "reply.md", b"", None, "extract",
             "no Terraform code found in the text (prose only?)", 1),
    BadInput("stdin-empty", None, b"", None, "extract", "input is empty", 1),
    BadInput("stdin-binary", None, b"\x00\x01\x02", None, "extract",
             "<stdin>: binary data (NUL bytes), not Terraform", 1),
    BadInput("stdin-10MB", None, b"#" * 10_000_000, None, "extract",
             "<stdin>: larger than the limit of 2000000 bytes", 1),
]
SLOW_CASES = [
    BadInput("tf-json", "pass_tf_json", b"", "validate", "", "", 0),
    BadInput("stdin-fenced-reply", None, REPLY, "validate", "", "", 0),
]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("inputs")
    (root / "binary.tf").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00" * 10)
    (root / "latin1.tf").write_bytes('resource "aws_s3_bucket" "b" {\n  bucket = "café"\n}\n'
                                     .encode("latin-1"))
    (root / "empty.tf").write_bytes(b"")
    (root / "huge.tf").write_bytes(b"# padding\n" * 1_048_576)
    (root / "unbalanced.tf").write_text((FIXTURES / "stages/fail_parse_unbalanced_braces/main.tf")
                                        .read_text())
    (root / "reply.md").write_text("Create the bucket in the S3 console; no code is needed.\n")
    (root / "pass_tf_json").symlink_to(FIXTURES / "stages/pass_tf_json")
    return root


def _check(case: BadInput, inputs: Path) -> None:
    args = [str(inputs / case.path) if case.path else "-", "--format", "json"]
    args += ["--stages", case.stages] if case.stages else []
    code, out, _ = iacforge(*args, stdin=case.stdin)
    [cli] = json.loads(out)["certificates"]

    if case.path:
        candidate = from_path(inputs / case.path)
    else:
        candidate = from_bytes(case.stdin[: 2_000_001], name="<stdin>", source="<stdin>")
    api = Verifier(stages=case.stages.split(",") if case.stages else None).verify(candidate)

    assert summary(cli["stages"]) == summary(api.to_dict()["stages"])
    assert code == case.exit == exit_code([api])
    assert api.failed_stage == (case.failed or None)
    if case.failed:
        first = api.stage(case.failed).diagnostics[0]
        assert first.severity == "error" and first.summary.startswith(case.problem)
        skipped = [s for s in api.stages if s.status == "skipped"]
        assert skipped and all(s.diagnostics[0].summary.startswith("skipped: ") for s in skipped)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_gives_a_certificate_and_exit_code_through_cli_and_api(case, inputs):
    _check(case, inputs)


@pytest.mark.slow
@pytest.mark.parametrize("case", SLOW_CASES, ids=[c.id for c in SLOW_CASES])
def test_good_input_in_other_shapes_passes_validate_through_cli_and_api(case, inputs):
    _check(case, inputs)


def test_stdin_reply_files_are_named_from_the_reply():
    code, out, _ = iacforge("-", "--format", "json", "--stages", "parse", stdin=REPLY)
    [cert] = json.loads(out)["certificates"]
    assert (code, cert["source"], cert["files"]) == (0, "<stdin>", ["main.tf", "variables.tf"])


@pytest.mark.slow
def test_json_output_has_every_stage_and_a_broken_intent_fails_naming_its_rule():
    """The IaC-Eval-style task's reference, judged by an intent that asks for too much."""
    code, out, _ = iacforge(str(TASK / "reference"), "--intent",
                            str(TASK / "intent_broken_v1.rego"), "--format", "json")
    [cert] = json.loads(out)["certificates"]
    names = [s["stage"] for s in cert["stages"]]
    assert [n for n in names if n in ALL] == list(ALL)
    for stage in cert["stages"]:
        assert stage["status"] in ("pass", "fail", "error", "unsafe", "skipped")
        assert isinstance(stage["seconds"], float) and stage["seconds"] >= 0
        assert isinstance(stage["diagnostics"], list)
    by_name = {s["stage"]: s for s in cert["stages"]}
    assert all(by_name[name]["status"] == "pass" for name in ALL[:4])
    assert by_name["intent"]["status"] == "fail"
    assert "intent rule has_three_subnets is false" in {
        d["summary"] for d in by_name["intent"]["diagnostics"] if d["severity"] == "error"}
    assert cert["rego"] == {"has_vpc": True, "has_three_subnets": False, "is_valid": False}
    # the reference has no VPC flow logs: checkov fails it too
    assert by_name["security"]["status"] == "fail"
    assert "CKV2_AWS_11" in {d["rule_id"] for d in by_name["security"]["diagnostics"]}
    assert (code, cert["status"]) == (1, "fail")
    restored = Certificate.from_dict(cert)
    assert restored.to_dict() == cert
    assert reward(restored) == pytest.approx(1 + 1 / 3)


def test_sarif_output_is_sarif_2_1_0():
    code, out, _ = iacforge(str(FIXTURES / "stages/fail_parse_unbalanced_braces"),
                            "--format", "sarif")
    log = json.loads(out)
    assert (code, log["version"]) == (1, "2.1.0")
    (run,) = log["runs"]
    parse_errors = [r for r in run["results"] if r["level"] == "error"]
    assert parse_errors[0]["message"]["text"].startswith("Unexpected end of file")
    location = parse_errors[0]["locations"][0]["physicalLocation"]
    # named from the working directory, as code scanning needs: not `main.tf` of some root
    fixture = FIXTURES / "stages/fail_parse_unbalanced_braces/main.tf"
    assert location["artifactLocation"] == {"uri": os.path.relpath(fixture), "uriBaseId":
                                            "%SRCROOT%"}
    Sarif.model_validate(log)  # the whole SARIF 2.1.0 schema, as pydantic-sarif models it


def test_table_output_names_the_failed_stage():
    code, out, _ = iacforge(str(FIXTURES / "stages/fail_parse_unbalanced_braces"))
    assert code == 1
    assert "parse" in out and "fail" in out and "Unexpected end of file" in out


def test_several_paths_give_one_json_document_and_the_worst_exit_code(inputs):
    code, out, _ = iacforge(str(FIXTURES / "stages/fail_parse_unbalanced_braces"),
                            str(inputs / "empty.tf"), "--format", "json", "--stages", "parse")
    doc = json.loads(out)
    assert [c["status"] for c in doc["certificates"]] == ["fail", "fail"]
    assert code == 1


def test_a_provider_the_mirror_lacks_is_exit_3():
    code, out, _ = iacforge(str(FIXTURES / "stages/error_provider_random"), "--format", "json",
                            "--stages", "validate")
    validate = next(s for s in json.loads(out)["certificates"][0]["stages"]
                    if s["stage"] == "validate")
    assert (code, validate["status"]) == (3, "error")
    assert validate["diagnostics"][0]["summary"] == "provider 'random' is not available offline"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["main.tf", "--stages", "parse,deploy"], "unknown stage(s) deploy"),
        ([], "the following arguments are required: PATH"),
        ([str(FIXTURES / "stages/pass_tf_json"), "--stages", "intent"],
         "stage 'intent' needs an intent policy"),
        (["main.tf", "--intent", "/no/such/policy.rego"],
         "intent policy /no/such/policy.rego does not exist"),
        (["main.tf", "--format", "yaml"], "invalid choice: 'yaml'"),
    ],
    ids=["unknown-stage", "no-path", "intent-without-policy", "missing-policy", "bad-format"],
)
def test_usage_errors_are_exit_2_with_a_message(args, message):
    code, out, err = iacforge(*args)
    assert code == 2
    assert message in err
    assert out == ""


def test_an_empty_provider_mirror_is_exit_4_naming_where_it_looked(tmp_path: Path):
    empty = tmp_path / "mirror"
    empty.mkdir()
    code, out, err = iacforge(str(FIXTURES / "stages/pass_tf_json"), "--stages", "validate",
                              env={"IACFORGE_PROVIDER_MIRROR": str(empty)})
    assert code == 4
    assert err.startswith("iacforge: setup problem: no offline provider mirror")
    assert f"Looked in: {empty}" in err
    assert out == ""
    with pytest.raises(SetupError, match=f"Looked in: {empty}"):
        Verifier(Settings(provider_mirror=str(empty)), ["validate"]).verify(
            from_path(FIXTURES / "stages/pass_tf_json"))


def cert(*statuses: tuple[str, str]) -> Certificate:
    return Certificate("0" * 64, tuple(StageResult(n, s) for n, s in statuses))


@pytest.mark.parametrize(
    ("certs", "code"),
    [
        ([cert(("parse", "pass"))], 0),
        ([cert(("parse", "pass")), cert(("parse", "fail"))], 1),
        ([cert(("validate", "unsafe"), ("plan", "skipped"))], 1),
        ([cert(("validate", "error"), ("plan", "skipped"))], 3),
        ([cert(("validate", "error")), cert(("parse", "pass"))], 3),
        # a failure anywhere outweighs a verifier error before it
        ([cert(("validate", "error"), ("plan", "skipped"), ("apply", "fail"))], 1),
        # security and lint do not gate by default (a certificate's fail_on says when they do)
        ([cert(("validate", "error"), ("plan", "skipped"), ("security", "fail"))], 3),
        ([cert(("parse", "pass"), ("security", "fail"), ("lint", "fail"))], 0),
        ([cert(("validate", "error")), cert(("parse", "fail"))], 1),
    ],
)
def test_exit_codes_rank_failure_over_verifier_error_over_pass(certs, code):
    assert exit_code(certs) == code


@pytest.mark.slow
def test_a_repository_is_judged_per_root_module_never_as_an_empty_root(tmp_path: Path):
    """`verify REPO` with the code in envs/*: once an empty root module that passed."""
    for env, argument in (("prod", "bucket_nope"), ("dev", "bucket")):
        (tmp_path / "envs" / env).mkdir(parents=True)
        (tmp_path / "envs" / env / "main.tf").write_text(
            f'resource "aws_s3_bucket" "b" {{\n  {argument} = "logs"\n}}\n')
    code, out, _ = iacforge(str(tmp_path), "--stages", "validate", "--format", "json")
    certs = {Path(c["source"]).relative_to(tmp_path).as_posix(): c
             for c in json.loads(out)["certificates"]}
    assert {name: c["status"] for name, c in certs.items()} == {"envs/dev": "pass",
                                                                "envs/prod": "fail"}
    validate = next(s for s in certs["envs/prod"]["stages"] if s["stage"] == "validate")
    assert validate["diagnostics"][0]["summary"] == "Unsupported argument"
    assert code == 1


def test_the_examples_folder_gives_one_certificate_per_example():
    examples = Path(__file__).parents[2] / "examples"
    code, out, _ = iacforge(str(examples), "--stages", "parse", "--format", "json")
    sources = [Path(c["source"]).name for c in json.loads(out)["certificates"]]
    assert sources == sorted(p.parent.name for p in examples.glob("*/main.tf"))
    assert code == 1  # fail_parse does not parse


def _fifo(tmp: Path) -> Path:
    os.mkfifo(tmp / "pipe.tf")
    return tmp / "pipe.tf"


def _docs_only(tmp: Path) -> Path:
    (tmp / "docs").mkdir()
    (tmp / "docs/README.md").write_text("x")
    return tmp / "docs"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: tmp / "nope", "nope: no such file or directory"),
        (_fifo, "pipe.tf: is a FIFO (named pipe), not a file or directory"),
        (lambda tmp: Path("/dev/zero"), "/dev/zero: is a character device"),
        (_docs_only, "docs: no .tf or .tf.json files in this directory or below "
                     "(found 1 other file(s), e.g. README.md)"),
    ],
    ids=["missing", "fifo", "dev-zero", "no-terraform"],
)
def test_an_input_path_without_terraform_is_exit_2_in_one_line(tmp_path, make, message):
    code, out, err = iacforge(str(make(tmp_path)), "--stages", "parse")
    assert (code, out) == (2, "")
    assert message in err and err.count("\n") == 1


def test_checkov_skip_comments_in_the_code_are_honoured_and_reported_with_their_reason():
    """As `checkov -d` does; `--ignore-skip-comments` fails the check all the same."""
    fixture = str(FIXTURES / "security/skip_comment")
    code, out, _ = iacforge(fixture, "--stages", "security", "--format", "json",
                            "--fail-on", "security")
    security = next(s for s in json.loads(out)["certificates"][0]["stages"]
                    if s["stage"] == "security")
    assert (code, security["status"], security["metrics"]["skipped"]) == (0, "pass", 1)
    [skipped] = [d for d in security["diagnostics"] if d["rule_id"] == "CKV_AWS_27"]
    assert skipped["suppressed"] == "the author says encryption is not needed"
    code, out, _ = iacforge(fixture, "--stages", "security", "--format", "sarif")
    [result] = [r for r in json.loads(out)["runs"][0]["results"] if r["ruleId"] == "CKV_AWS_27"]
    assert result["suppressions"] == [{"kind": "inSource", "justification":
                                       "the author says encryption is not needed"}]

    code, out, _ = iacforge(fixture, "--stages", "security", "--format", "json",
                            "--ignore-skip-comments", "--fail-on", "security")
    security = next(s for s in json.loads(out)["certificates"][0]["stages"]
                    if s["stage"] == "security")
    assert (code, security["status"]) == (1, "fail")


BUCKET = 'resource "aws_s3_bucket" "logs" {\n  bucket = "iacforge-demo-logs"\n}\n'


@pytest.mark.parametrize(("fail_on", "env", "exit", "status"), [
    ([], {}, 0, "pass"),
    (["--fail-on", "security"], {}, 1, "fail"),
    ([], {"IACFORGE_FAIL_ON": "security"}, 1, "fail"),
    (["--fail-on", "lint"], {"IACFORGE_FAIL_ON": "security"}, 1, "fail"),
])
def test_checkov_findings_are_shown_and_fail_the_verdict_only_when_asked(fail_on, env, exit,
                                                                         status, tmp_path):
    (tmp_path / "main.tf").write_text(BUCKET)
    code, out, _ = iacforge(str(tmp_path), "--stages", "parse,security,lint", "--format",
                            "json", *fail_on, stdin=b"", env=env)
    [cert] = json.loads(out)["certificates"]
    by_name = {s["stage"]: s for s in cert["stages"]}
    assert by_name["security"]["status"] == by_name["lint"]["status"] == "fail"
    assert "CKV_AWS_18" in {d["rule_id"] for d in by_name["security"]["diagnostics"]}
    assert (code, cert["status"]) == (exit, status)


@pytest.mark.slow
def test_a_plain_valid_bucket_passes_the_default_stages_with_its_findings_listed(tmp_path):
    (tmp_path / "main.tf").write_text(BUCKET)
    code, out, _ = iacforge(str(tmp_path))
    assert code == 0
    assert "CKV_AWS_145" in out and "security" in out and "fail" in out


@pytest.mark.parametrize(("args", "message"), [
    (["--intent-rule", "strcit"], "invalid choice: 'strcit' (choose from 'iac_eval', 'strict')"),
    (["--fail-on", "secrity"], "'secrity' is not an advisory stage; choose from security, lint"),
    (["--stages", "parse,plna"], "unknown stage(s) plna"),
])
def test_a_misspelt_option_is_a_one_line_usage_error(args, message, tmp_path):
    code, out, err = iacforge(str(tmp_path), *args)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and message in err
