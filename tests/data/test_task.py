"""The Task type: records round-trip, bad tasks are refused with the reason, families."""

from __future__ import annotations

import pytest

from iacforge.data.task import COLUMNS, Task, resource_family
from iacforge.errors import IacforgeError

MUTATE = Task("m1", "mutate", "Add versioning.", files={"main.tf": "locals {}\n"},
              intent="package x\n", reference={"main.tf": "locals {}\n", "b.tf": "\n"},
              difficulty="3", resources=("aws_s3_bucket",), source="f.jsonl:1",
              description="versioned")


def test_a_record_has_every_column_in_order_and_round_trips():
    record = MUTATE.to_record()
    assert tuple(record) == COLUMNS
    assert record["reference"] == [{"name": "b.tf", "text": "\n"},
                                   {"name": "main.tf", "text": "locals {}\n"}]
    assert Task.from_record(record) == MUTATE


def test_a_record_may_leave_optional_columns_out():
    task = Task.from_record({"id": "g", "prompt": "A bucket.", "difficulty": 2})
    assert (task.kind, task.files, task.difficulty, task.intent) == ("generate", {}, "2", None)


@pytest.mark.parametrize(("record", "message"), [
    ({"id": "x", "prompt": "p", "colour": "red"}, "unknown column"),
    ({"id": "x", "prompt": "p", "kind": "delete"}, "kind must be generate or mutate"),
    ({"id": "x", "prompt": "  "}, "prompt is empty"),
    ({"id": "x", "prompt": "p", "kind": "mutate"}, "needs the files it starts from"),
    ({"id": "", "prompt": "p"}, "needs an id"),
    ({"prompt": "p"}, "'id' must be a string"),
    ({"id": "x", "prompt": "p", "files": ["main.tf"]}, r"list of \{name, text\}"),
])
def test_bad_records_are_refused_with_the_reason(record, message):
    with pytest.raises(IacforgeError, match=message):
        Task.from_record(record)


@pytest.mark.parametrize(("resources", "family"), [
    (("aws_s3_bucket", "aws_s3_bucket_versioning"), "s3"),
    (("aws_vpc", "aws_subnet", "aws_internet_gateway", "aws_s3_bucket"), "vpc"),
    (("aws_security_group", "aws_instance", "aws_instance"), "ec2"),
    (("aws_db_instance",), "rds"),
    (("aws_lb", "aws_lb_listener", "aws_vpc"), "elb"),
    (("aws_iam_role", "aws_sqs_queue"), "iam"),  # a tie goes to the first listed
    ((), "other"),
])
def test_resource_family(resources, family):
    assert resource_family(resources) == family


def test_the_digest_changes_with_the_content():
    assert MUTATE.digest() == Task.from_record(MUTATE.to_record()).digest()
    changed = Task.from_record({**MUTATE.to_record(), "prompt": "Add logging."})
    assert changed.digest() != MUTATE.digest()
