"""A candidate directory may hold no link to a host file: neither symbolic nor hard."""

from __future__ import annotations

import os

import pytest

from iacforge.verify.workspace import HardLinked, UnsafePath, refuse_links


def test_a_plain_candidate_directory_is_accepted(tmp_path):
    (tmp_path / "sub").mkdir()
    (tmp_path / "main.tf").write_text("locals {}\n")
    (tmp_path / "sub/vars.tf").write_text("variable \"x\" {}\n")
    refuse_links(tmp_path)


def test_a_hard_link_to_a_host_file_is_refused(tmp_path):
    secret = tmp_path / "credentials"
    secret.write_text("aws_secret_access_key = host\n")
    candidate = tmp_path / "candidate"
    candidate.mkdir()
    os.link(secret, candidate / "main.tf")
    with pytest.raises(HardLinked, match="hard link"):
        refuse_links(candidate)


def test_a_symlink_is_refused(tmp_path):
    (tmp_path / "main.tf").symlink_to("/etc/passwd")
    with pytest.raises(UnsafePath, match="symbolic link"):
        refuse_links(tmp_path)
