"""Turn what a user or a model hands us into a Candidate: LLM text, a .tf file or a directory.

Nothing here raises on bad input. Binary, non-UTF-8, empty, oversize or archive input becomes a
Candidate whose `problems` say what was wrong; the extract stage reports them.
"""

from __future__ import annotations

import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from iacforge.candidate import Candidate
from iacforge.errors import IacforgeError

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)$", re.M)
_HCL_LANGS = {"hcl", "terraform", "tf", "hcl2"}
_JSON_LANGS = {"json", "tf.json"}
_FILENAME = re.compile(r"([\w./-]+\.tf(?:vars)?(?:\.json)?)\b")
_TFVARS = (".tfvars", ".tfvars.json")
_TOP_LEVEL = re.compile(
    r'^\s*(resource|data|provider|variable|output|module|locals|terraform)\b\s*("|\{)', re.M
)
_TF_JSON_KEYS = {
    "resource", "data", "provider", "variable", "output", "module", "locals", "terraform",
}
_ARCHIVE_MAGIC = (b"PK\x03\x04", b"\x1f\x8b", b"BZh", b"\xfd7zXZ", b"7z\xbc\xaf")
SOURCE_SUFFIXES = (".tf", ".tf.json")
#: Bounds on walking a directory: a tree deeper or larger than this is refused, not walked.
MAX_DEPTH = 64
MAX_ENTRIES = 100_000


def from_text(text: str, *, source: str = "text", max_bytes: int = 2_000_000) -> Candidate:
    """Extract the Terraform files of an LLM reply (fenced blocks, or bare HCL)."""
    if len(text.encode("utf-8", "surrogatepass")) > max_bytes:
        return Candidate({}, source, (f"input is larger than {max_bytes} bytes",))
    if not text.strip():
        return Candidate({}, source, ("input is empty",))
    text = text.replace("\r\n", "\n")  # a CRLF closing fence would not close its block
    blocks = _fenced_blocks(text)
    files: dict[str, str] = {}
    for name, body in blocks:
        files[_unique(name, files)] = body
    if not blocks and _is_tf_json(text):
        files["main.tf.json"] = text
    elif not blocks and _TOP_LEVEL.search(text):
        files["main.tf"] = text
    if not files:
        return Candidate({}, source, ("no Terraform code found in the text (prose only?)",))
    return Candidate(files, source)


def from_bytes(data: bytes, *, name: str, source: str, max_bytes: int = 2_000_000) -> Candidate:
    """Decode raw bytes from a file or stdin, refusing binary and archive input clearly."""
    if len(data) > max_bytes:
        # callers read at most max_bytes + 1 bytes, so len(data) is not the input's size
        return Candidate({}, source, (f"{name}: larger than the limit of {max_bytes} bytes",))
    problem = _binary_problem(data)
    if problem:
        return Candidate({}, source, (f"{name}: {problem}",))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Candidate({}, source, (f"{name}: not UTF-8 (bad byte at offset {exc.start})",))
    if name.endswith(SOURCE_SUFFIXES):
        if not text.strip():
            return Candidate({}, source, (f"{name}: file is empty",))
        return Candidate({Path(name).name: text}, source)
    return from_text(text, source=source, max_bytes=max_bytes)


def from_path(path: Path, *, max_bytes: int = 2_000_000) -> Candidate:
    """Load a single file, or a directory as one root module (every .tf / .tf.json below it).

    `iacforge verify` finds the root modules of a directory with `roots.root_candidates`; this
    takes the directory as it is, so a directory whose Terraform lies only in subdirectories
    is a problem that names them, never an empty module that would pass.
    """
    source = str(path)
    try:
        kind = input_kind(path)
        if kind == "file":
            return from_bytes(read_limited(path, max_bytes), name=path.name, source=source,
                              max_bytes=max_bytes)
        tree = walk(path)
    except InputError as exc:
        return Candidate({}, source, (str(exc),))
    files: dict[str, str] = {}
    problems: list[str] = []
    total = 0
    for directory in sorted(tree.dirs):
        for file in tree.dirs[directory]:
            rel = file.relative_to(path).as_posix()
            try:
                data = read_limited(file, max_bytes)
            except InputError as exc:
                problems.append(f"{rel}: {exc.reason}")
                continue
            total += len(data)
            if total > max_bytes:
                problems.append(f"{path}: candidate is larger than {max_bytes} bytes")
                return Candidate(files, source, tuple(problems))
            one = from_bytes(data, name=rel, source=source, max_bytes=max_bytes)
            problems += one.problems
            files.update((rel, text) for text in one.files.values())
    if not tree.dirs:
        problems.append(f"{path}: no .tf or .tf.json files{tree.found()}")
    elif path not in tree.dirs and not problems:
        below = ", ".join(d.relative_to(path).as_posix() for d in sorted(tree.dirs)[:5])
        problems.append(f"{path}: no .tf or .tf.json files in the directory itself, only below "
                        f"it ({below}); verify each root module (iacforge verify finds them)")
    return Candidate(files, source, tuple(problems))


class InputError(IacforgeError):
    """An input path Terraform cannot be read from: missing, a FIFO or device, too deep."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.reason = reason


def input_kind(path: Path) -> Literal["file", "dir"]:
    """Whether `path` is a regular file or a directory; InputError for anything else.

    A FIFO or a device is refused by its stat, never opened: reading one could block or
    never end (`/dev/zero`).
    """
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise InputError(path, "no such file or directory") from None
    except OSError as exc:
        raise InputError(path, f"cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    raise InputError(path, f"is {_special_kind(mode)}, not a file or directory; pass "
                           "a .tf file, a directory, or - with the text on stdin")


def read_limited(path: Path, max_bytes: int) -> bytes:
    """At most `max_bytes + 1` bytes of the regular file `path` (links are not followed).

    Opened without blocking and checked after opening, so a FIFO or device swapped in for a
    file is refused, and a huge (or sparse) file is never read whole.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        if path.is_symlink():
            raise InputError(path, "not a regular file (symlinks are not followed)") from None
        raise InputError(path, f"cannot read it ({exc.strerror or exc})") from None
    with os.fdopen(fd, "rb") as file:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise InputError(path, f"not a regular file ({_special_kind(mode)})")
        if os.fstat(fd).st_nlink > 1:  # another name for it may be a host file (~/.aws/…)
            raise InputError(path, "a hard link (the file has other names); copy it instead")
        return file.read(max_bytes + 1)


@dataclass(frozen=True)
class Tree:
    """The directories below a path that hold .tf / .tf.json entries, and what else was there."""

    #: directory → its .tf / .tf.json entries, sorted (not yet checked to be regular files)
    dirs: dict[Path, list[Path]]
    #: a few other file names seen (relative), and how many there were in all
    others: tuple[str, ...] = ()
    other_count: int = 0

    def found(self) -> str:
        """` (found: N other files, e.g. a, b)` for an error message, or ``."""
        if not self.other_count:
            return " (the directory is empty)"
        return f" (found {self.other_count} other file(s), e.g. {', '.join(self.others)})"


def walk(root: Path) -> Tree:
    """Every directory below `root` holding Terraform, without recursion and within bounds.

    Directories whose name starts with a dot (`.terraform`, `.git`) are skipped and symlinked
    directories are not followed. Raises InputError past MAX_DEPTH levels or MAX_ENTRIES
    entries, or for a directory that cannot be read.
    """
    dirs: dict[Path, list[Path]] = {}
    others: list[str] = []
    other_count = seen = 0
    stack = [(root, 0)]
    while stack:
        directory, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise InputError(root, f"directories nest deeper than {MAX_DEPTH} levels; "
                                   "point iacforge at the module directories")
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            raise InputError(directory, f"cannot read the directory "
                                        f"({exc.strerror or exc})") from None
        seen += len(entries)
        if seen > MAX_ENTRIES:
            raise InputError(root, f"more than {MAX_ENTRIES} files and directories below it; "
                                   "point iacforge at the module directories")
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not entry.name.startswith("."):
                    stack.append((Path(entry.path), depth + 1))
            elif entry.name.endswith(SOURCE_SUFFIXES):
                dirs.setdefault(directory, []).append(Path(entry.path))
            else:
                other_count += 1
                if len(others) < 3:
                    others.append(Path(entry.path).relative_to(root).as_posix())
    return Tree(dirs, tuple(others), other_count)


def _special_kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")):
        if test(mode):
            return name
    return "not a regular file"


def _binary_problem(data: bytes) -> str | None:
    if data.startswith(_ARCHIVE_MAGIC):
        return "looks like an archive (zip/gzip/bz2/xz/7z); unpack it first"
    if b"\0" in data[:8192]:
        return "binary data (NUL bytes), not Terraform"
    return None


def _fenced_blocks(text: str) -> list[tuple[str, str]]:
    """(file name, body) for every fenced block that holds Terraform."""
    out: list[tuple[str, str]] = []
    pos = 0
    while match := _FENCE.search(text, pos):
        fence, info = match["fence"], match["info"].strip()
        closing = re.compile(rf"^[ \t]*{re.escape(fence[0])}{{{len(fence)},}}[ \t]*$", re.M)
        end = closing.search(text, match.end())
        body = text[match.end() + 1 : end.start() if end else len(text)]
        pos = end.end() if end else len(text)
        name = _block_name(text[: match.start()], info, body)
        if name and body.strip():
            out.append((name, body if body.endswith("\n") else body + "\n"))
    return out


def _block_name(before: str, info: str, body: str) -> str | None:
    """The file name a block should get, or None when it is not Terraform."""
    lang = info.split()[0].lower() if info else ""
    hinted = _name_hint(info, before, body)
    if lang == "tfvars" or (hinted or "").endswith(_TFVARS):
        return None  # variable values, not configuration
    if lang in _JSON_LANGS or (hinted or "").endswith(".tf.json"):
        return (hinted if hinted and hinted.endswith(".tf.json") else "main.tf.json") \
            if _is_tf_json(body) else None
    if lang in _HCL_LANGS or _TOP_LEVEL.search(body):
        return hinted if hinted and hinted.endswith(".tf") else "main.tf"
    return None


def _name_hint(info: str, before: str, body: str) -> str | None:
    """A file name from the fence info, the first comment line, or the line before the fence."""
    first = body.lstrip().split("\n", 1)[0]
    last_line = before.rstrip().rsplit("\n", 1)[-1] if before.strip() else ""
    for where in (info, first if first.startswith(("#", "//", "/*")) else "", last_line):
        match = _FILENAME.search(where)
        if match:
            return Path(match.group(1)).name
    return None


def _is_tf_json(body: str) -> bool:
    try:
        doc = json.loads(body)
    except json.JSONDecodeError:
        return False
    return isinstance(doc, dict) and bool(_TF_JSON_KEYS & doc.keys())


def _unique(name: str, taken: dict[str, str]) -> str:
    if name not in taken:
        return name
    stem, dot, ext = name.partition(".")
    n = 2
    while f"{stem}_{n}{dot}{ext}" in taken:
        n += 1
    return f"{stem}_{n}{dot}{ext}"
