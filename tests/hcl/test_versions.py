"""Version constraints: Terraform's operators, lists, and what we decline to judge."""

import pytest

from iacforge.hcl.versions import allows


@pytest.mark.parametrize(
    ("constraint", "version", "expected"),
    [
        ("~> 0.12", "1.11.4", False),
        ("~> 1.0", "1.11.4", True),
        ("~> 1.11.0", "1.11.4", True),
        ("~> 1.10.0", "1.11.4", False),
        ("~> 1", "1.11.4", True),
        ("~> 3.0", "5.100.0", False),
        ("~> 5.0", "5.100.0", True),
        ("~> 5.100", "5.100.0", True),
        (">= 0.12", "1.11.4", True),
        (">= 1.0, < 2.0", "1.11.4", True),
        (">= 1.0, < 1.5", "1.11.4", False),
        ("<= 1.11.4", "1.11.4", True),
        ("< 1.11", "1.11.4", False),
        ("> 1.11.4", "1.11.4", False),
        ("= 1.11.4", "1.11.4", True),
        ("1.11.4", "1.11.4", True),
        ("1.5.7", "1.11.4", False),
        ("!= 1.11.4", "1.11.4", False),
        (">=v1.2.0", "1.11.4", True),
        (">= 1.2.0-beta1", "1.11.4", True),
        ("", "1.11.4", True),
        (">= 1.0", "1.12.0-alpha20250101", True),
        ("~> 1.11", "v1.11.0", True),
    ],
)
def test_allows(constraint, version, expected):
    assert allows(constraint, version) is expected


@pytest.mark.parametrize("constraint", ["latest", ">= one", "~> 1.x", "^1.0"])
def test_constraints_we_cannot_read_are_none_not_false(constraint):
    assert allows(constraint, "1.11.4") is None
