"""The files changed since a git ref: what `iacforge verify --since REF` re-verifies.

Changed means `git diff --name-only REF` (the working tree against REF: committed, staged and
unstaged changes, deleted files and both sides of a rename) plus untracked files that
`.gitignore` does not exclude.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from iacforge.errors import ConfigError, SetupError

#: git reads no fsmonitor hook of the repository's config: `--since` runs no code of the repo.
_GIT = ("git", "-c", "core.fsmonitor=false", "-c", "core.quotePath=false")


def changed_since(ref: str, cwd: Path | None = None) -> list[Path]:
    """Files changed since `ref` in the repository holding `cwd` (default: the working
    directory), each as a normalised path joined to `cwd`.

    Raises:
        ConfigError: `cwd` is not inside a git work tree, or `ref` names no commit.
        SetupError: git is not installed.
    """
    cwd = cwd or Path.cwd()
    if not ref or ref.startswith("-"):
        raise ConfigError(f"--since {ref!r}: not a git ref")
    cdup = _git(cwd, "rev-parse", "--show-cdup", error="not inside a git repository "
                "(--since compares with a git ref; give the changed files with --changed)")
    top = cwd / cdup.strip()
    commit = _git(top, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}",
                  error=f"--since {ref!r}: unknown git ref (no such branch, tag or commit)")
    diff = _git(top, "diff", "--name-only", "--no-renames", "-z", commit.strip(), "--")
    untracked = _git(top, "ls-files", "--others", "--exclude-standard", "-z")
    names = sorted({n for n in (diff + untracked).split("\0") if n})
    return [Path(os.path.normpath(top / n)) for n in names]


def _git(cwd: Path, *args: str, error: str | None = None) -> str:
    """git's stdout; a failure is a ConfigError saying `error` (or git's own message)."""
    try:
        done = subprocess.run([*_GIT, *args], cwd=cwd, capture_output=True, text=True,
                              timeout=120, check=False)
    except FileNotFoundError:
        raise SetupError("git not found on PATH; --since needs git") from None
    except subprocess.TimeoutExpired:
        raise ConfigError(f"git {args[0]} took longer than 120 s") from None
    if done.returncode != 0:
        raise ConfigError(error or f"git {args[0]} failed: {done.stderr.strip()[:300]}")
    return done.stdout
