"""A candidate directory may hold no link to a host file: neither symbolic nor hard."""

from __future__ import annotations

import os

from iacforge.hcl.extract import from_path


def test_a_plain_candidate_directory_is_accepted(tmp_path):
    (tmp_path / "main.tf").write_text("locals {}\n")
    (tmp_path / "vars.tf").write_text("variable \"x\" {}\n")
    assert from_path(tmp_path).problems == ()


def test_a_hard_link_to_a_host_file_is_refused(tmp_path):
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = host\n")
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    os.link(secret, candidate / "main.tf")
    loaded = from_path(candidate)
    assert loaded.files == {}
    assert any("hard link" in p for p in loaded.problems)
    assert "aws_secret_access_key" not in repr(loaded)


def test_a_symlink_is_refused(tmp_path):
    (tmp_path / "main.tf").symlink_to("/etc/passwd")
    loaded = from_path(tmp_path / "main.tf")
    assert loaded.files == {}
    assert any("symlink" in p for p in loaded.problems)
