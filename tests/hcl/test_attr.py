"""`Block.attr`, the one unwrap of the parser's one-element lists: `.tf` and `.tf.json` alike."""

from __future__ import annotations

import json

from iacforge.data.from_hcl import spec_from_files
from iacforge.data.schema import provider_schema
from iacforge.hcl.parse import parse_files

TF = ('resource "aws_db_subnet_group" "g" {\n  name       = "g"\n'
      '  subnet_ids = ["subnet-1"]\n  tags       = { team = "a" }\n}\n')
JSON = json.dumps({"resource": {"aws_db_subnet_group": {"g": {
    "name": "g", "subnet_ids": ["subnet-1"], "tags": {"team": "a"}}}}})


def test_a_one_element_list_means_the_same_in_tf_and_tf_json():
    (tf,) = parse_files({"main.tf": TF}).model.blocks
    (js,) = parse_files({"main.tf.json": JSON}).model.blocks
    for name in ("name", "subnet_ids", "tags", "missing"):
        assert tf.attr(name) == js.attr(name), name
    assert js.attr("subnet_ids") == ["subnet-1"]  # a genuine list is not unwrapped


def test_a_spec_read_from_tf_json_keeps_its_one_element_lists():
    schema = provider_schema()
    from_tf = spec_from_files({"main.tf": TF}, schema)
    from_json = spec_from_files({"main.tf.json": JSON}, schema)
    assert from_json.resources[0].body.attrs["subnet_ids"] == ["subnet-1"]
    assert from_json.resources[0].body.attrs == from_tf.resources[0].body.attrs
