from iacforge.hcl.parse import parse_files
from iacforge.lint import documented_outputs


def test_flags_missing_and_empty_descriptions(load_model):
    found = documented_outputs.check(load_model("terraform_documented_outputs"))
    assert {d.address for d in found} == {
        "output.fail_no_description",
        "output.fail_empty_description",
    }


def test_finds_the_line_the_parser_does_not_record(load_model):
    # the parser gives output blocks no line; the rule reads it from the source text
    found = documented_outputs.check(load_model("terraform_documented_outputs"))
    assert {d.address: d.line for d in found} == {
        "output.fail_no_description": 6,
        "output.fail_empty_description": 10,
    }


def test_json_outputs_are_checked_without_a_line():
    model = parse_files({"main.tf.json": '{"output": {"fail_bare": {"value": 1}}}'}).model
    [found] = documented_outputs.check(model)
    assert (found.address, found.file, found.line) == ("output.fail_bare", "main.tf.json", None)
