"""Workspace: a scratch directory holding one candidate's normalised root module.

Every scratch file of a verifier process (workspaces, the emulator's files, relay sockets)
lives below one private directory, `scratch_dir()`: `<cache_dir>/scratch/<pid>-<start>`,
mode 0700, never the shared temp directory. It is removed at exit; one left by a killed
process is removed by the next process that makes its own.
"""

from __future__ import annotations

import atexit
import os
import shutil
import stat
import tempfile
import threading
from pathlib import Path, PurePosixPath

from iacforge.config import Settings
from iacforge.errors import IacforgeError, SetupError


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
        self.path = Path(tempfile.mkdtemp(prefix="ws-", dir=parent or scratch_dir()))
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


_scratch: dict[int, Path] = {}
_scratch_lock = threading.Lock()


def scratch_dir() -> Path:
    """This process's private scratch directory, made (and stale ones reaped) on first use."""
    with _scratch_lock:
        pid = os.getpid()
        if pid not in _scratch:
            base = private_dir(Path(Settings.from_env().cache_dir) / "scratch")
            _reap(base)
            path = base / f"{pid}-{_start_time(pid)}"
            path.mkdir(mode=0o700, exist_ok=True)
            _scratch[pid] = path
            atexit.register(_remove_scratch, pid)
        return _scratch[pid]


def private_dir(path: Path) -> Path:
    """`path` as a directory only we can use, or SetupError if someone else could."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        raise SetupError(f"{path} is not a directory of this user: remove it")
    if info.st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def _start_time(pid: int) -> str:
    """When `pid` started (clock ticks since boot), so a reused pid is not taken for it."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return "0"


def _reap(base: Path) -> None:
    """Remove the scratch directories of processes that no longer run."""
    for entry in base.iterdir():
        pid, _, start = entry.name.partition("-")
        if pid.isdigit() and _start_time(int(pid)) != start:
            shutil.rmtree(entry, ignore_errors=True)


def _remove_scratch(pid: int) -> None:
    if os.getpid() == pid:
        shutil.rmtree(_scratch.pop(pid), ignore_errors=True)


def _write_new(target: Path, text: str) -> None:
    """Write a file that must not exist yet: one file never silently replaces another."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("x", encoding="utf-8", errors="surrogatepass") as out:
        out.write(text)
