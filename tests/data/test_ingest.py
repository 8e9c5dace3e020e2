"""Ingest finds root modules (not the modules they call) with commit and licence."""

from __future__ import annotations

from pathlib import Path

from iacforge.data.ingest import Module, ingest

COMMIT = "0123456789abcdef0123456789abcdef01234567"


def _checkout(root: Path) -> Path:
    (root / ".git" / "refs" / "heads").mkdir(parents=True)
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".git" / "refs" / "heads" / "main").write_text(COMMIT + "\n")
    (root / "LICENSE").write_text("Apache License\nVersion 2.0, January 2004\n")
    app = root / "envs" / "prod"
    app.mkdir(parents=True)
    (app / "main.tf").write_text('module "net" {\n  source = "../../modules/net"\n}\n')
    net = root / "modules" / "net"
    net.mkdir(parents=True)
    (net / "main.tf").write_text('resource "aws_vpc" "v" {\n  cidr_block = "10.0.0.0/16"\n}\n')
    lone = root / "examples" / "queue"
    lone.mkdir(parents=True)
    (lone / "main.tf").write_text('resource "aws_sqs_queue" "q" {}\n')
    (lone / "README.md").write_text("not terraform\n")
    return root


def test_root_modules_come_with_path_commit_and_licence(tmp_path):
    modules = list(ingest(_checkout(tmp_path)))
    assert [m.path for m in modules] == ["envs/prod", "examples/queue"]
    queue = modules[1]
    assert queue.files == {"main.tf": 'resource "aws_sqs_queue" "q" {}\n'}
    assert (queue.commit, queue.licence_file, queue.licence) == (COMMIT, "LICENSE",
                                                                   "Apache-2.0")
    assert queue.candidate().source.endswith("@0123456789ab:examples/queue")
    assert Module.from_record(queue.to_record()) == queue


def test_packed_refs_and_a_tree_without_git_or_licence(tmp_path):
    root = _checkout(tmp_path / "repo")
    (root / ".git" / "refs" / "heads" / "main").unlink()
    (root / ".git" / "packed-refs").write_text(f"# pack-refs\n{COMMIT} refs/heads/main\n")
    assert {m.commit for m in ingest(root)} == {COMMIT}
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / "a.tf").write_text("locals {}\n")
    (module,) = ingest(plain)
    assert (module.commit, module.licence_file, module.path) == (None, None, ".")
