"""Ingest: Terraform root modules from local folders and git checkouts, with provenance.

A root module is a folder holding `.tf` / `.tf.json` files that no other folder of the same
tree calls as a local module (`source = "./…"`). Its files are read as a candidate (nested
folders are not part of it), and it carries where it came from: the tree, the path inside
it, the git commit when the tree is a checkout (read from `.git` directly: no git command
runs on untrusted repositories), and the licence file nearest to it (up to the checkout's
root).

>>> import tempfile, pathlib
>>> root = pathlib.Path(tempfile.mkdtemp())
>>> _ = (root / "main.tf").write_text('resource "aws_sqs_queue" "q" {}\\n')
>>> [m.path for m in ingest(root)]
['.']
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from iacforge.candidate import Candidate
from iacforge.errors import IacforgeError
from iacforge.hcl.extract import from_bytes

_SKIP = frozenset({".git", ".terraform", "node_modules", ".venv", "__pycache__"})
_SOURCE = re.compile(r'^\s*source\s*=\s*"(\.{1,2}/[^"]*)"', re.M)
_LICENCE = re.compile(r"^(licen[cs]e|copying)(\.[a-z]+)?$", re.I)
_SPDX = (("Apache License", "Apache-2.0"), ("MIT License", "MIT"),
         ("Mozilla Public License", "MPL-2.0"), ("GNU GENERAL PUBLIC LICENSE", "GPL"),
         ("GNU LESSER GENERAL PUBLIC", "LGPL"), ("BSD", "BSD"), ("ISC License", "ISC"))


@dataclass(frozen=True)
class Module:
    """One root module and its provenance."""

    id: str
    files: dict[str, str]
    tree: str
    path: str
    commit: str | None = None
    licence_file: str | None = None
    licence: str | None = None
    problems: tuple[str, ...] = field(default=())

    def candidate(self) -> Candidate:
        where = f"{self.tree}@{self.commit[:12]}" if self.commit else self.tree
        return Candidate(self.files, source=f"{where}:{self.path}", problems=self.problems)

    def to_record(self) -> dict[str, Any]:
        record = asdict(self)
        record["files"] = [{"name": k, "text": v} for k, v in sorted(self.files.items())]
        record["problems"] = list(self.problems)
        return record

    @classmethod
    def from_record(cls, row: dict[str, Any]) -> Module:
        files = {f["name"]: f["text"] for f in row["files"]}
        return cls(**{**row, "files": files, "problems": tuple(row.get("problems") or ())})


def ingest(tree: str | Path) -> Iterator[Module]:
    """The root modules under `tree`, in path order."""
    tree = Path(tree).resolve()
    if not tree.is_dir():
        raise IacforgeError(f"{tree} is not a directory")
    folders = _tf_folders(tree)
    called = {(folder / m).resolve() for folder, texts in folders.items()
              for text in texts.values() for m in _SOURCE.findall(text)}
    commit = git_commit(tree)
    for folder in sorted(folders):
        if folder in called:
            continue
        rel = str(folder.relative_to(tree)) or "."
        files, problems = _read(folder)
        licence_file = _licence(folder, tree)
        digest = hashlib.sha256(json.dumps(sorted(files.items())).encode("utf-8",
                                                                          "surrogatepass"))
        yield Module(id=f"ingest-{digest.hexdigest()[:12]}", files=files, tree=str(tree),
                     path=rel, commit=commit,
                     licence_file=os.path.relpath(licence_file, tree) if licence_file else None,
                     licence=_spdx(licence_file) if licence_file else None, problems=problems)


def load_modules(path: Path) -> list[Module]:
    """Modules written by `iacforge data ingest` (JSONL)."""
    if not path.is_file():
        raise IacforgeError(f"{path} does not exist")
    return [Module.from_record(json.loads(line)) for line in
            path.read_text(encoding="utf-8").splitlines() if line.strip()]


def git_commit(tree: Path) -> str | None:
    """The commit checked out in the repository holding `tree`, read from `.git` files."""
    for folder in (tree, *tree.parents):
        git = folder / ".git"
        if git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = git.read_text(errors="replace").strip()
            git = (folder / text.removeprefix("gitdir:").strip()).resolve()
        if not (git / "HEAD").is_file():
            continue
        head = (git / "HEAD").read_text(errors="replace").strip()
        if not head.startswith("ref:"):
            return head or None
        ref = head.removeprefix("ref:").strip()
        common = git / "commondir"
        base = (git / common.read_text().strip()).resolve() if common.is_file() else git
        for root in (git, base):
            if (root / ref).is_file():
                return (root / ref).read_text(errors="replace").strip()
            packed = root / "packed-refs"
            if packed.is_file():
                for line in packed.read_text(errors="replace").splitlines():
                    if line.endswith(f" {ref}"):
                        return line.split()[0]
        return None
    return None


def _tf_folders(tree: Path) -> dict[Path, dict[str, str]]:
    """Folders with Terraform files → their raw texts (for finding module calls)."""
    found: dict[Path, dict[str, str]] = {}
    for folder, dirs, names in os.walk(tree):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP and not d.startswith("."))
        tf = [n for n in names if n.endswith((".tf", ".tf.json"))]
        if tf:
            found[Path(folder).resolve()] = {
                n: (Path(folder) / n).read_text(encoding="utf-8", errors="replace")
                for n in tf if not (Path(folder) / n).is_symlink()}
    return found


def _read(folder: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    files: dict[str, str] = {}
    problems: list[str] = []
    for file in sorted(folder.iterdir()):
        if not file.name.endswith((".tf", ".tf.json")):
            continue
        if file.is_symlink() or not file.is_file():
            problems.append(f"{file.name}: not a regular file (symlinks are not followed)")
            continue
        one = from_bytes(file.read_bytes(), name=file.name, source=str(folder))
        files.update(one.files)
        problems += one.problems
    return files, tuple(problems)


def _licence(folder: Path, tree: Path) -> Path | None:
    """The licence file nearest to `folder`, looking up to the tree, or to the root of the
    git checkout holding the tree."""
    top = next((p for p in (tree, *tree.parents) if (p / ".git").exists()), tree)
    for where in (folder, *folder.parents):
        found = sorted(p for p in where.iterdir() if p.is_file() and _LICENCE.match(p.name))
        if found:
            return found[0]
        if where == top:
            break
    return None


def _spdx(path: Path) -> str | None:
    head = path.read_text(encoding="utf-8", errors="replace")[:2000]
    return next((spdx for words, spdx in _SPDX if words.lower() in head.lower()), None)
