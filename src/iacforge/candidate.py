"""The unit of verification: the files of one Terraform root module."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass, field
from pathlib import PurePosixPath

#: The longest file or folder name most file systems take, in bytes.
_MAX_PART_BYTES = 255


@dataclass(frozen=True)
class Candidate:
    """The files of one Terraform root module, plus where they came from.

    File names are normalised as the candidate is built (`./main.tf` is `main.tf`). Two names
    for one file (after normalisation, or differing only in case, which folds on macOS and
    Windows), a name that is both a file and a folder, and a name with control characters
    become `problems`, so the extract stage fails the candidate instead of a later stage
    writing one file over another. Names that escape the module (`..`, absolute) are left as
    given: the workspace refuses them as unsafe.

    >>> c = Candidate({"main.tf": 'resource "aws_s3_bucket" "b" {}'}, source="example")
    >>> len(c.content_hash())
    64
    >>> Candidate({"./main.tf": "", "MAIN.tf": ""}).problems
    ("file names './main.tf' and 'MAIN.tf' name the same file",)
    """

    files: dict[str, str]
    source: str = ""
    #: Problems found while building the candidate (bad bytes, oversize input, no code in a
    #: reply, clashing file names). The extract stage reports them; they never raise.
    problems: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        files, problems = _normalised(self.files)
        object.__setattr__(self, "files", files)
        if problems:
            object.__setattr__(self, "problems", (*self.problems, *problems))

    def content_hash(self) -> str:
        """A SHA-256 over the file names and texts, independent of insertion order."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
            h.update(self.files[name].encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        for problem in self.problems:
            h.update(problem.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        return h.hexdigest()


def normal_name(name: str) -> str:
    """`name` without `.` parts, doubled or trailing slashes: `./a//b.tf/` is `a/b.tf`.

    `..` parts stay: whether they escape is the workspace's call, not a rewrite's.
    """
    return str(PurePosixPath(name)) if name else name


def _normalised(files: dict[str, str]) -> tuple[dict[str, str], tuple[str, ...]]:
    """The files under their normal names, and what is wrong with the names."""
    out: dict[str, str] = {}
    given: dict[str, str] = {}  # folded normal name -> the name as given
    problems: list[str] = []
    for name, text in files.items():
        problem = _name_problem(name)
        if problem:
            problems.append(problem)
        normal = normal_name(name)
        key = _fold(normal)
        if key in given:
            problems.append(f"file names {given[key]!r} and {name!r} name the same file")
            continue
        given[key] = name
        out[normal] = text
    for name in out:
        for folder in PurePosixPath(name).parents:
            if _fold(str(folder)) in given and str(folder) not in (".", "/"):
                problems.append(f"{given[_fold(str(folder))]!r} is a file and also the folder "
                                f"of {given[_fold(name)]!r}")
    return out, tuple(problems)


def _name_problem(name: str) -> str | None:
    if any(unicodedata.category(c) == "Cc" for c in name):
        return f"file name {name!r} has a control character"
    if any(len(part.encode("utf-8", "surrogatepass")) > _MAX_PART_BYTES
           for part in PurePosixPath(name).parts):
        return f"file name {name[:40]!r}... has a part longer than {_MAX_PART_BYTES} bytes"
    return None


def _fold(name: str) -> str:
    """The key two names share when a case-insensitive file system stores them as one."""
    return unicodedata.normalize("NFC", name).casefold()
