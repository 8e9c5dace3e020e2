from iacforge.lint import documented_variables


def test_flags_missing_and_empty_descriptions(load_model):
    found = documented_variables.check(load_model("terraform_documented_variables"))
    assert {d.address for d in found} == {
        "var.fail_no_description",
        "var.fail_empty_description",
    }
    assert {d.rule_id for d in found} == {"terraform_documented_variables"}
