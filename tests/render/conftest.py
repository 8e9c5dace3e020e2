"""Certificates built by hand for the renderer tests, one per situation a renderer must show."""

from __future__ import annotations

import pytest

from iacforge.certificate import Certificate
from iacforge.diagnostics import Diagnostic, StageResult

HASH = "0123456789abcdef" * 4


def passed(*names: str) -> tuple[StageResult, ...]:
    return tuple(StageResult(name, "pass", seconds=0.1) for name in names)


@pytest.fixture
def validate_fail() -> Certificate:
    """FV-i fails with two errors (one without a line) and a warning; later stages skipped."""
    validate = StageResult(
        "validate",
        "fail",
        (
            Diagnostic(
                "error",
                "Unsupported argument",
                'An argument named "acl_mode" is not expected here.\nDid you mean "acl"?',
                file="main.tf",
                line=3,
                column=5,
                address="aws_s3_bucket.logs",
            ),
            Diagnostic("error", "Missing required argument", file="variables.tf"),
            Diagnostic("warning", "Deprecated attribute", file="main.tf", line=9, rule_id="TFW1"),
        ),
        seconds=1.25,
    )
    stages = (*passed("extract", "parse"), validate, StageResult("plan", "skipped"))
    return Certificate(HASH, stages, source="task-7/sample-2", files=("main.tf", "variables.tf"))


@pytest.fixture
def intent_fail() -> Certificate:
    """Plan passes, the intent policy has two false rules out of four; security has findings."""
    intent = StageResult(
        "intent",
        "fail",
        (Diagnostic("error", "Rule is false", rule_id="versioning_enabled"),),
        metrics={"rules_true": 3, "rules_total": 4},
    )
    security = StageResult(
        "security",
        "fail",
        (Diagnostic("warning", "Ensure logging", file="main.tf", line=1, rule_id="CKV_AWS_18"),),
        metrics={"compliance": 0.8333},
    )
    rego = {"has_bucket": True, "versioning_enabled": False, "checks": {"encrypted": False}}
    stages = (*passed("extract", "parse", "validate", "plan"), intent, security)
    return Certificate(HASH, stages, rego=rego, source="task-8", files=("main.tf",))


@pytest.fixture
def security_fail() -> Certificate:
    """Every gating stage passes; checkov fails two checks; lint has seven warnings."""
    checks = tuple(
        Diagnostic("error", f"Ensure check {n}", file="main.tf", line=n, rule_id=f"CKV_AWS_{n}")
        for n in (18, 21)
    )
    lint = tuple(
        Diagnostic("warning", f"lint finding {n}", file="main.tf", line=n, rule_id=f"TFL{n}")
        for n in range(1, 8)
    )
    stages = (
        *passed("extract", "parse", "validate", "plan", "intent"),
        StageResult("security", "fail", checks, metrics={"compliance": 0.5}),
        StageResult("lint", "pass", lint),
    )
    return Certificate(HASH, stages, source="task-9", files=("main.tf",))


@pytest.fixture
def all_pass() -> Certificate:
    lint = (Diagnostic("info", "Consider a description", file="main.tf", line=2),)
    stages = (
        *passed("extract", "parse", "validate", "plan", "intent"),
        StageResult("lint", "pass", lint),
    )
    return Certificate(HASH, stages, source="task-1", files=("main.tf",))


#: What a hostile candidate puts where a renderer shows it: clear-screen, a window-title OSC,
#: a colour code, a right-to-left override, a carriage return and a rich markup closing tag.
CONTROL = "\x1b[2J\x1b]0;owned\x07\x1b[31m\u202e\r[/]"


@pytest.fixture
def escape_codes() -> Certificate:
    """Control characters in the source, a resource name, a file name, a rule and a message."""
    diag = Diagnostic("error", f"Invalid resource name {CONTROL}", f"detail {CONTROL}",
                      file=f"main{CONTROL}.tf", line=1, address=f"aws_s3_bucket.{CONTROL}",
                      rule_id=f"rule{CONTROL}")
    stages = (*passed("extract", "parse"), StageResult("validate", "fail", (diag,), seconds=0.1))
    return Certificate(HASH, stages, source=f"task{CONTROL}", files=(f"main{CONTROL}.tf",))
