import os
import shutil
from pathlib import Path

import pytest

from iacforge.lint import deprecated_interpolation
from iacforge.verify.sandbox.process import run_process

NAME = "terraform_deprecated_interpolation"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "lint" / NAME


def test_flags_exactly_the_interpolation_only_strings(load_model):
    found = deprecated_interpolation.check(load_model(NAME))
    assert {d.address for d in found} == {
        "local.fail_wrapped",
        "local.fail_function",
        "aws_s3_bucket.fail_wrapped_attribute",
        "output.fail_wrapped_output",
    }
    assert {(d.line, d.column) for d in found} == {(9, 20), (11, 20), (25, 12), (34, 17)}


@pytest.mark.skipif(shutil.which("terraform") is None, reason="needs terraform")
def test_agrees_with_terraform_fmt_which_unwraps_the_same_strings(load_model, tmp_path):
    # the fixture is otherwise fmt-clean, so the lines fmt rewrites are the bare interpolations
    text = (FIXTURE / "main.tf").read_text()
    result = run_process(["terraform", "fmt", "-"], cwd=tmp_path, stdin=text, timeout=60,
                         env={"PATH": os.environ["PATH"], "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    pairs = zip(text.splitlines(), result.stdout.splitlines(), strict=True)
    rewritten = {n for n, (a, b) in enumerate(pairs, 1) if a.split() != b.split()}
    assert rewritten == {d.line for d in deprecated_interpolation.check(load_model(NAME))}
