"""Root modules: a directory is judged as what it is, one candidate per root module below it.

Also the input paths that are not files or directories (a FIFO, a device), trees too deep to
walk and huge files: each ends in a one-line InputError or a problem, never a hang or traceback.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from iacforge.hcl.extract import MAX_DEPTH, InputError, from_path
from iacforge.hcl.roots import root_candidates

BUCKET = 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'
VARIABLE = 'variable "name" {\n  type = string\n}\n'


def call(source: str) -> str:
    return f'module "m" {{\n  source = "{source}"\n  name   = "x"\n}}\n'


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def roots(path: Path) -> dict[str, list[str]]:
    """Each root candidate's path (relative to `path`) → its sorted file names."""
    return {Path(c.source).relative_to(path).as_posix(): sorted(c.files)
            for c in root_candidates(path)}


def test_a_monorepo_gives_one_candidate_per_environment_not_an_empty_root(tmp_path):
    tree(tmp_path, {"envs/prod/main.tf": BUCKET, "envs/dev/main.tf": BUCKET,
                    "README.md": "# infra\n"})
    assert roots(tmp_path) == {"envs/dev": ["main.tf"], "envs/prod": ["main.tf"]}
    assert all(c.problems == () for c in root_candidates(tmp_path))


def test_local_modules_travel_with_the_root_that_calls_them(tmp_path):
    tree(tmp_path, {"main.tf": call("./modules/queue"), "modules/queue/main.tf": VARIABLE,
                    "modules/queue/nested/x.tf": VARIABLE,  # not called: a root of its own
                    "modules/queue/vars.tf.json": '{"variable": {"y": {}}}\n'})
    assert roots(tmp_path) == {
        ".": ["main.tf", "modules/queue/main.tf", "modules/queue/vars.tf.json"],
        "modules/queue/nested": ["x.tf"],
    }


def test_a_module_called_from_outside_its_root_is_not_a_root(tmp_path):
    tree(tmp_path, {"envs/prod/main.tf": call("../../modules/q"), "modules/q/main.tf": VARIABLE})
    # the call leaves the root: its text stays, and the screen refuses an escaping source
    assert roots(tmp_path) == {"envs/prod": ["main.tf"]}


def test_a_json_module_call_counts_and_a_parse_error_calls_nothing(tmp_path):
    tree(tmp_path, {"a/main.tf.json": '{"module": {"m": {"source": "../lib"}}}\n',
                    "lib/main.tf": VARIABLE, "b/main.tf": 'module "m" {\n  source = "../c"\n',
                    "c/main.tf": VARIABLE})
    assert sorted(roots(tmp_path)) == ["a", "b", "c"]


def test_a_file_is_one_candidate(tmp_path):
    path = tree(tmp_path, {"main.tf": BUCKET}) / "main.tf"
    [candidate] = root_candidates(path)
    assert candidate.files == {"main.tf": BUCKET}


def test_an_unreadable_file_in_a_root_is_a_problem_of_that_root(tmp_path):
    tree(tmp_path, {"a/main.tf": BUCKET, "b/main.tf": BUCKET})
    (tmp_path / "b/legacy.tf").write_bytes("# café\n".encode("latin-1"))
    by_root = {Path(c.source).name: c.problems for c in root_candidates(tmp_path)}
    assert by_root == {"a": (), "b": ("legacy.tf: not UTF-8 (bad byte at offset 5)",)}


def test_a_root_over_the_size_limit_is_a_problem(tmp_path):
    tree(tmp_path, {f"f{n}.tf": "#" * 60 + "\n" for n in range(3)})
    [candidate] = root_candidates(tmp_path, max_bytes=100)
    assert candidate.problems == (f"{tmp_path}: candidate is larger than 100 bytes",)


def test_a_directory_without_terraform_is_an_error_naming_what_is_there(tmp_path):
    tree(tmp_path, {"README.md": "x", "src/app.py": "x", ".terraform/cached.tf": BUCKET})
    with pytest.raises(InputError, match=r"no \.tf or \.tf\.json files in this directory or "
                                         r"below \(found 2 other file\(s\), e\.g\. README\.md"):
        root_candidates(tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match=r"empty: no \.tf .* \(the directory is empty\)$"):
        root_candidates(tmp_path / "empty")


def test_from_path_on_a_repo_root_names_the_modules_below_instead_of_passing(tmp_path):
    tree(tmp_path, {"envs/prod/main.tf": BUCKET})
    candidate = from_path(tmp_path)
    assert candidate.problems == (
        f"{tmp_path}: no .tf or .tf.json files in the directory itself, only below it "
        "(envs/prod); verify each root module (iacforge verify finds them)",)


def test_a_missing_path_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"nope: no such file or directory$"):
        root_candidates(tmp_path / "nope")


@pytest.mark.timeout(20)
def test_a_fifo_is_refused_without_being_opened(tmp_path):
    fifo = tmp_path / "main.tf"
    os.mkfifo(fifo)
    with pytest.raises(InputError, match="is a FIFO"):
        root_candidates(fifo)
    assert "is a FIFO (named pipe), not a file or directory" in from_path(fifo).problems[0]
    # inside a directory it is a problem of its root, named, and never read
    (tmp_path / "ok.tf").write_text(BUCKET)
    [candidate] = root_candidates(tmp_path)
    assert candidate.problems == ("main.tf: not a regular file (a FIFO (named pipe))",)


@pytest.mark.timeout(20)
def test_dev_zero_is_refused_as_a_device():
    with pytest.raises(InputError, match="/dev/zero: is a character device"):
        root_candidates(Path("/dev/zero"))


@pytest.mark.timeout(20)
def test_a_huge_sparse_file_is_never_read_whole(tmp_path):
    huge = tmp_path / "main.tf"
    with huge.open("wb") as file:
        file.truncate(64 * 2**30)  # 64 GiB of holes: reading it whole would never end
    [candidate] = root_candidates(huge, max_bytes=1000)
    assert candidate.problems == ("main.tf: larger than the limit of 1000 bytes",)


@pytest.fixture
def deep_tree(tmp_path):
    """A tree 1500 directories deep, past Python's recursion limit, removed bottom-up after.

    Python's own recursive helpers (shutil.rmtree, os.makedirs, pytest's tmp cleanup) fail
    on it, so it is built and removed level by level here.
    """
    levels = [str(tmp_path / "deep")]
    for _ in range(1500):
        levels.append(levels[-1] + "/d")
    for level in levels:
        os.mkdir(level)
    Path(levels[-1], "main.tf").write_text(BUCKET)
    yield Path(levels[0])
    os.unlink(Path(levels[-1], "main.tf"))
    for level in reversed(levels):
        os.rmdir(level)


def test_a_very_deep_tree_is_an_input_error_not_a_recursion_error(deep_tree):
    with pytest.raises(InputError, match=f"deeper than {MAX_DEPTH} levels"):
        root_candidates(deep_tree)
    assert f"deeper than {MAX_DEPTH} levels" in from_path(deep_tree).problems[0]


def test_the_module_docstring_example_runs():
    import doctest

    import iacforge.hcl.roots

    result = doctest.testmod(iacforge.hcl.roots)
    assert result.attempted > 0 and result.failed == 0


def test_a_tree_with_too_much_terraform_is_an_input_error(tmp_path):
    tree(tmp_path, {f"m{n}/main.tf": "#" * 90 + "\n" for n in range(40)})
    with pytest.raises(InputError, match=r"more than 3200 bytes of Terraform below it"):
        root_candidates(tmp_path, max_bytes=100)
