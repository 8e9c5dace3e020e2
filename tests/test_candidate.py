"""Candidate: a content hash that identifies exactly the files and problems it was made of."""

import dataclasses

import pytest

from iacforge.candidate import Candidate
from iacforge.verify.pipeline import Verifier

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


@pytest.mark.parametrize(("given", "normal"), [
    ("./main.tf", "main.tf"), ("modules//net/./main.tf", "modules/net/main.tf"),
    ("main.tf/", "main.tf"), ("a/../main.tf", "a/../main.tf"),  # `..` is the workspace's call
])
def test_file_names_are_normalised_as_the_candidate_is_built(given, normal):
    candidate = Candidate({given: "locals {}\n"})
    assert list(candidate.files) == [normal] and candidate.problems == ()


def test_a_normalised_name_hashes_like_the_plain_one():
    dotted, plain = Candidate({"./main.tf": "x"}), Candidate({"main.tf": "x"})
    assert dotted.content_hash() == plain.content_hash()


CLASHES = [
    ({"main.tf": "locals {}\n", "./main.tf": "locals {}\n"},
     "file names 'main.tf' and './main.tf' name the same file"),
    ({"main.tf": "locals {}\n", "MAIN.tf": "locals {}\n"},
     "file names 'main.tf' and 'MAIN.tf' name the same file"),
    ({"main.tf": "locals {}\n", "main.tf/extra.tf": "locals {}\n"},
     "'main.tf' is a file and also the folder of 'main.tf/extra.tf'"),
    ({"main\x1b[2J.tf": "locals {}\n"}, "file name 'main\\x1b[2J.tf' has a control character"),
]
CLASH_IDS = ["dot-slash", "case", "file-and-folder", "control-character"]


@pytest.mark.parametrize(("files", "problem"), CLASHES, ids=CLASH_IDS)
def test_names_that_clash_are_a_problem_not_an_exception(files, problem):
    assert Candidate(files).problems == (problem,)


@pytest.mark.parametrize(("files", "problem"), CLASHES, ids=CLASH_IDS)
def test_the_verifier_fails_a_clash_at_extract_and_writes_nothing(files, problem):
    # the old code wrote one file over the other (a pass) or died of FileExistsError
    cert = Verifier(stages=["validate"]).verify(Candidate(files))
    assert cert.status == "fail"
    extract = cert.stages[0]
    assert (extract.stage, extract.status) == ("extract", "fail")
    assert [d.summary for d in extract.diagnostics] == [problem]
    assert {s.stage: s.status for s in cert.stages[1:]} == {
        "parse": "skipped", "screen": "skipped", "validate": "skipped"}
