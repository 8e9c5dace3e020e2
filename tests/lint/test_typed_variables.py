from iacforge.lint import typed_variables


def test_flags_exactly_the_untyped_variables(load_model):
    found = typed_variables.check(load_model("terraform_typed_variables"))
    assert {d.address for d in found} == {"var.fail_untyped", "var.fail_default_only"}
    assert [(d.line, d.summary) for d in found] == [
        (12, "`fail_untyped` variable has no type"),
        (14, "`fail_default_only` variable has no type"),
    ]
