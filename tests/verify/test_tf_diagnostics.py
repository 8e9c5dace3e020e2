"""Terraform's JSON diagnostics as Diagnostics, the same text for the same candidate."""

from iacforge.verify.terraform.diagnostics import from_terraform


def _cycle(*nodes: str) -> dict:
    return {"severity": "error", "summary": "Cycle: " + ", ".join(nodes), "detail": ""}


def test_a_cycle_names_its_nodes_in_one_order_whatever_order_terraform_chose():
    one = from_terraform(_cycle("aws_security_group.b", "aws_security_group.a"), rule_id="v")
    two = from_terraform(_cycle("aws_security_group.a", "aws_security_group.b"), rule_id="v")
    assert one.summary == two.summary == "Cycle: aws_security_group.a, aws_security_group.b"


def test_other_summaries_and_positions_pass_through():
    diag = from_terraform({"severity": "warning", "summary": " Deprecated attribute ",
                           "range": {"filename": "main.tf", "start": {"line": 3, "column": 5}}},
                          rule_id="terraform_validate")
    assert (diag.severity, diag.summary, diag.file, diag.line, diag.column) == \
        ("warning", "Deprecated attribute", "main.tf", 3, 5)


def test_the_end_of_terraforms_range_is_kept():
    diag = from_terraform({"severity": "error", "summary": "Unsupported argument",
                           "range": {"filename": "main.tf", "start": {"line": 2, "column": 3},
                                     "end": {"line": 2, "column": 14}}}, rule_id="v")
    assert (diag.line, diag.column, diag.end_line, diag.end_column) == (2, 3, 2, 14)
    assert from_terraform({"summary": "x"}, rule_id="v").end_line is None
