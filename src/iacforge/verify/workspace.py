"""Workspace: a scratch directory holding one candidate's normalised root module."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path, PurePosixPath

from iacforge.errors import IacforgeError


class UnsafePath(IacforgeError):
    """A candidate file name that would land outside its workspace."""


def safe_relative(name: str) -> PurePosixPath:
    """`name` as a relative path that stays inside a workspace, or UnsafePath."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or "\0" in name:
        raise UnsafePath(f"file name {name!r} escapes the workspace")
    if path.parts[0] in (".terraform", ".home") or name.endswith(".tfstate"):
        raise UnsafePath(f"file name {name!r} is reserved by the verifier")
    return path


class Workspace:
    """A temporary directory with the files written in; removed on `close()`.

    >>> with Workspace({"main.tf": "variable \\"x\\" {}\\n"}) as ws:
    ...     (ws.path / "main.tf").is_file()
    True
    """

    def __init__(self, files: dict[str, str], *, parent: str | None = None) -> None:
        rels = {name: safe_relative(name) for name in files}
        self.path = Path(tempfile.mkdtemp(prefix="iacforge-", dir=parent))
        for name, rel in rels.items():
            try:
                _write_new(self.path / rel, files[name])
            except OSError as exc:  # two names for one file, a file where a folder goes, ...
                self.close()
                raise UnsafePath(f"file name {name!r} cannot be written: "
                                 f"{exc.strerror or exc}") from None

    def close(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _write_new(target: Path, text: str) -> None:
    """Write a file that must not exist yet: one file never silently replaces another."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8", errors="surrogatepass") as out:
        out.write(text)
