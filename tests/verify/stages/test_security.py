"""The security stage on real checkov: verdicts, addresses, metrics, options and isolation."""

import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.hcl.parse import parse_files
from iacforge.verify import checkov_scan
from iacforge.verify.context import StageContext
from iacforge.verify.options import VerifierOptions
from iacforge.verify.stages import security

FIXTURES = Path(__file__).parents[2] / "fixtures" / "security"


def files_of(*names: str) -> dict[str, str]:
    return {p.name: p.read_text() for name in names for p in sorted((FIXTURES / name).iterdir())}


def context(files: dict[str, str], *, parsed: bool = True, **options) -> StageContext:
    return StageContext(
        candidate=Candidate(files),
        settings=Settings(),
        model=parse_files(files).model if parsed else None,
        options=VerifierOptions(**options),
    )


def failing(result, check_id: str) -> set[str]:
    return {d.address for d in result.diagnostics
            if d.rule_id == check_id and d.suppressed is None}


def test_fails_exactly_the_unencrypted_queues():
    result = security.run(context(files_of("sqs_encryption")))
    assert result.stage == "security"
    assert result.status == "fail"
    assert failing(result, "CKV_AWS_27") == {
        "aws_sqs_queue.fail_sse_disabled",
        "aws_sqs_queue.fail_unencrypted",
    }


def test_the_pass_queues_were_checked_and_passed():
    report = checkov_scan.scan(files_of("sqs_encryption"))
    passed = {f.resource for f in report.passed if f.check_id == "CKV_AWS_27"}
    assert passed == {"aws_sqs_queue.pass_managed_sse", "aws_sqs_queue.pass_kms_key"}


def test_diagnostic_names_the_check_file_line_and_address():
    result = security.run(context(files_of("sqs_encryption")))
    [diagnostic] = [
        d for d in result.diagnostics
        if d.rule_id == "CKV_AWS_27" and d.address == "aws_sqs_queue.fail_sse_disabled"
    ]
    assert diagnostic.severity == "warning"
    assert diagnostic.summary == "Ensure all data stored in the SQS queue is encrypted"
    assert (diagnostic.file, diagnostic.line) == ("queues.tf", 13)


def test_metrics_count_results_and_compliance():
    result = security.run(context(files_of("sqs_encryption")))
    report = checkov_scan.scan(files_of("sqs_encryption"))
    passed, failed = len(report.passed), len(report.failed)
    assert result.metrics == {
        "passed": passed,
        "failed": failed,
        "skipped": 0,
        "compliance": passed / (passed + failed),
    }
    assert failed == len(result.diagnostics) == 3  # two CKV_AWS_27, one CKV2_AWS_73


def test_data_sources_get_their_terraform_address():
    # checkov names data sources without `data.`; the stage reads the address from the model
    for parsed in (True, False):
        result = security.run(context(files_of("iam_policy_document"), parsed=parsed))
        assert failing(result, "CKV_AWS_1") == {"data.aws_iam_policy_document.fail_admin"}
        assert failing(result, "CKV_AWS_49") == {"data.aws_iam_policy_document.fail_admin"}


def test_findings_keep_their_own_file_in_a_multi_file_candidate():
    result = security.run(context(files_of("sqs_encryption", "iam_policy_document")))
    files = {d.address: d.file for d in result.diagnostics}
    assert files["aws_sqs_queue.fail_unencrypted"] == "queues.tf"
    assert files["data.aws_iam_policy_document.fail_admin"] == "policies.tf"


def test_the_pass_all_example_passes_every_check():
    result = security.run(context(files_of("pass_all")))
    assert result.status == "pass"
    assert result.diagnostics == ()
    assert result.metrics["failed"] == 0
    assert result.metrics["passed"] >= 10
    assert result.metrics["compliance"] == 1.0


def test_skip_checks_option_removes_those_checks():
    result = security.run(context(files_of("sqs_encryption"), skip_checks=["CKV_AWS_27"]))
    assert failing(result, "CKV_AWS_27") == set()
    assert failing(result, "CKV2_AWS_73") == {"aws_sqs_queue.pass_kms_key"}


def test_a_skip_comment_in_the_candidate_is_ignored_unless_asked():
    files = files_of("skip_comment")
    ignored = security.run(context(files))
    assert ignored.status == "fail"
    assert failing(ignored, "CKV_AWS_27") == {"aws_sqs_queue.fail_suppressed"}

    honoured = security.run(context(files, honour_skip_comments=True))
    assert failing(honoured, "CKV_AWS_27") == set()
    assert honoured.metrics["skipped"] == 1
    # reported as skipped, with the comment's reason, where checkov found it; not a failure
    [skipped] = [d for d in honoured.diagnostics if d.rule_id == "CKV_AWS_27"]
    assert (skipped.severity, skipped.suppressed, skipped.address, skipped.line) == (
        "info", "the author says encryption is not needed", "aws_sqs_queue.fail_suppressed", 3)
    assert skipped.detail == ("skipped by a checkov:skip comment: "
                              "the author says encryption is not needed")


def test_files_iacforge_adds_to_the_workdir_are_not_scanned(tmp_path):
    # a provider override with inline keys would fail CKV_AWS_41 if it were scanned
    (tmp_path / "iacforge_override.tf").write_text(
        'provider "aws" {\n  access_key = "AKIAIOSFODNN7EXAMPLE"\n'
        '  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n}\n'
    )
    ctx = context(files_of("pass_all"))
    ctx.workdir = tmp_path
    result = security.run(ctx)
    assert result.status == "pass"


def test_hardcoded_credentials_in_the_candidate_itself_fail():
    files = {"main.tf": 'provider "aws" {\n  region     = "us-east-1"\n'
                        '  access_key = "AKIAIOSFODNN7EXAMPLE"\n'
                        '  secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"\n}\n'}
    result = security.run(context(files))
    assert failing(result, "CKV_AWS_41") == {"provider.aws"}


def test_unscannable_input_is_an_error_not_a_verdict():
    unparseable = security.run(context({"main.tf": 'resource "aws_sqs_queue" "q" {'}))
    assert unparseable.status == "error"
    assert "main.tf" in unparseable.diagnostics[0].detail

    escaping = security.run(context({"../main.tf": ""}, parsed=False))
    assert escaping.status == "error"


def test_concurrent_scans_match_serial_ones():
    inputs = [files_of(name) for name in ("sqs_encryption", "iam_policy_document", "pass_all")] * 2

    def summary(files):
        report = checkov_scan.scan(files)
        return sorted((f.check_id, f.resource) for f in report.failed), len(report.passed)

    serial = [summary(f) for f in inputs]
    with ThreadPoolExecutor(max_workers=4) as pool:
        assert list(pool.map(summary, inputs)) == serial


def test_scanning_stays_offline_quiet_and_out_of_import_time():
    # a fresh interpreter: importing the stage must not import checkov; a scan must open no
    # network connection and print nothing on stdout
    script = textwrap.dedent(f"""
        import sys
        events = []
        def hook(event, args):
            if event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
                events.append(event)
        sys.addaudithook(hook)
        from iacforge.verify.stages import security
        assert "checkov" not in sys.modules, "checkov imported at start-up"
        from iacforge.verify import checkov_scan
        report = checkov_scan.scan({{"main.tf": {files_of("sqs_encryption")["queues.tf"]!r}}})
        assert report.failed, "the scan found nothing"
        assert not events, events
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert done.stderr == ""
