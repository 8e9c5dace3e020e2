"""Candidate: a content hash that identifies exactly the files and problems it was made of."""

import dataclasses

import pytest

from iacforge.candidate import Candidate

FILES = {"main.tf": 'resource "aws_s3_bucket" "b" {}\n', "variables.tf": 'variable "x" {}\n'}


def test_the_hash_ignores_insertion_order_and_source():
    reordered = dict(reversed(list(FILES.items())))
    assert Candidate(FILES, source="a").content_hash() == Candidate(reordered, "b").content_hash()


@pytest.mark.parametrize(
    "other",
    [
        Candidate({**FILES, "main.tf": 'resource "aws_s3_bucket" "c" {}\n'}),
        Candidate({"main2.tf": FILES["main.tf"], "variables.tf": FILES["variables.tf"]}),
        Candidate({"main.tf": FILES["main.tf"]}),
        Candidate(FILES, problems=("legacy.tf: not UTF-8",)),
        # the separator keeps name/text boundaries apart
        Candidate({"main.tf" + FILES["main.tf"]: "", "variables.tf": FILES["variables.tf"]}),
    ],
    ids=["text", "name", "fewer-files", "problems", "boundary"],
)
def test_the_hash_changes_with_any_file_name_text_or_problem(other):
    assert Candidate(FILES).content_hash() != other.content_hash()


def test_the_hash_is_sha256_hex_and_survives_lone_surrogates():
    digest = Candidate({"main.tf": "# \udcff from a surrogateescape decode\n"}).content_hash()
    assert len(digest) == 64 and int(digest, 16) >= 0


def test_a_candidate_is_immutable_and_has_no_problems_by_default():
    candidate = Candidate(FILES)
    assert candidate.problems == () and candidate.source == ""
    with pytest.raises(dataclasses.FrozenInstanceError):
        candidate.source = "x"  # type: ignore[misc]
