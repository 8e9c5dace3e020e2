"""Workspace: candidate files land inside a scratch directory, or not at all."""

import pytest

from iacforge.verify.sandbox.workspace import UnsafePath, Workspace, safe_relative


@pytest.mark.parametrize(
    "name", ["main.tf", "modules/net/main.tf", "./main.tf", "a..b.tf", ".hidden.tf"],
)
def test_names_inside_the_workspace_are_accepted(name):
    assert not safe_relative(name).is_absolute()


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("/etc/passwd.tf", "escapes"),
        ("../main.tf", "escapes"),
        ("modules/../../main.tf", "escapes"),
        ("", "escapes"),
        ("main\0.tf", "escapes"),
        (".terraform/providers/x.tf", "reserved"),
        (".home/.terraformrc", "reserved"),
        ("terraform.tfstate", "reserved"),
    ],
)
def test_names_that_escape_or_collide_with_the_verifier_are_refused(name, why):
    with pytest.raises(UnsafePath, match=why):
        safe_relative(name)


def test_files_are_written_below_the_workspace_and_removed_on_close():
    files = {"main.tf": "locals {}\n", "modules/net/main.tf": 'variable "x" {}\n'}
    with Workspace(files) as workspace:
        root = workspace.path
        assert (root / "modules/net/main.tf").read_text() == 'variable "x" {}\n'
        assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*.tf")) == [
            "main.tf", "modules/net/main.tf"]
    assert not root.exists()


def test_an_unsafe_name_creates_no_directory(tmp_path):
    with pytest.raises(UnsafePath):
        Workspace({"main.tf": "locals {}\n", "../x.tf": ""}, parent=str(tmp_path))
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("files", [
    {"main.tf": "", "main.tf/x.tf": ""}, {"a/b.tf": "", "a": ""}, {"main.tf": "", "./main.tf": ""},
], ids=["file-then-folder", "folder-then-file", "same-file-twice"])
def test_two_names_for_one_place_are_refused_and_leave_nothing_behind(files, tmp_path):
    # the old code died of FileExistsError / IsADirectoryError, or wrote one file over another
    with pytest.raises(UnsafePath, match="cannot be written"):
        Workspace(files, parent=str(tmp_path))
    assert list(tmp_path.iterdir()) == []
