from iacforge.lint import unused_declarations


def test_flags_exactly_the_unreferenced_declarations(load_model):
    found = unused_declarations.check(load_model("terraform_unused_declarations"))
    assert {d.address for d in found} == {
        "var.fail_unused",
        "var.fail_only_in_own_validation",
        "var.fail_only_in_comment_and_text",
        "local.fail_unused",
        "data.aws_caller_identity.fail_unused",
    }


def test_points_at_the_declaration(load_model):
    found = unused_declarations.check(load_model("terraform_unused_declarations"))
    by_address = {d.address: d for d in found}
    assert (by_address["var.fail_unused"].file, by_address["var.fail_unused"].line) == (
        "main.tf", 16)
    assert by_address["local.fail_unused"].line == 40
    assert by_address["data.aws_caller_identity.fail_unused"].line == 45
    assert by_address["local.fail_unused"].summary == "local.fail_unused is declared but not used"
    assert {d.severity for d in found} == {"warning"}
    assert {d.rule_id for d in found} == {"terraform_unused_declarations"}


def test_a_reference_from_another_file_counts(load_model):
    from iacforge.hcl.parse import parse_files

    model = parse_files({
        "variables.tf": 'variable "region" {\n  type = string\n}\n',
        "main.tf": 'output "region" {\n  value = var.region\n}\n',
    }).model
    assert unused_declarations.check(model) == []
