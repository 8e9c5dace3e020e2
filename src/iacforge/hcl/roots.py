"""The root modules of a directory, each as one Candidate, as `tflint --recursive` sees a repo.

A root module is a directory holding `.tf` / `.tf.json` files that no other module below the
path calls as a local module (`source = "./…"` or `"../…"`). Each root's candidate holds its own
files and those of the local modules it calls that lie inside it, named relative to the root;
a call that leaves the root stays in its text, and the screen judges it.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as repo:
...     for sub in ("envs/prod", "envs/dev", "modules/queue"):
...         os.makedirs(f"{repo}/{sub}")
...     for env in ("prod", "dev"):
...         _ = Path(f"{repo}/envs/{env}/main.tf").write_text(
...             'module "q" {\\n  source = "../../modules/queue"\\n}\\n')
...     _ = Path(f"{repo}/modules/queue/main.tf").write_text('variable "name" {}\\n')
...     [Path(c.source).relative_to(repo).as_posix() for c in root_candidates(Path(repo))]
['envs/dev', 'envs/prod']
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from iacforge.candidate import Candidate
from iacforge.hcl.extract import (
    InputError,
    Tree,
    from_bytes,
    from_path,
    input_kind,
    read_limited,
    walk,
)
from iacforge.hcl.parse import parse_files

#: A tree holds at most this many candidates' worth of bytes (Settings.max_bytes each).
TREE_FACTOR = 32


def root_candidates(path: Path, *, max_bytes: int = 2_000_000,
                    touching: Iterable[Path] | None = None) -> list[Candidate]:
    """One Candidate for a file, or one per root module below a directory, sorted by path.

    With `touching` (changed files, deleted ones too), only the roots below a directory whose
    own directory, or that of a module they call (wherever it lies, transitively), holds one.

    Raises:
        InputError: the path is missing, a FIFO or device, holds no Terraform at all, or its
            tree is too deep or too large to walk.
    """
    if input_kind(path) == "file":
        return [from_path(path, max_bytes=max_bytes)]
    tree = walk(path)
    if not tree.dirs:
        raise InputError(path, f"no .tf or .tf.json files in this directory or below"
                               f"{tree.found()}")
    texts, problems = _read(path, tree, max_bytes)
    calls = {d: _local_calls(d, texts) for d in tree.dirs}
    called = {target for targets in calls.values() for target in targets}
    # a cycle of local calls leaves no root; verify each of its modules rather than none
    roots = sorted(d for d in tree.dirs if d not in called) or sorted(tree.dirs)
    if touching is not None:
        changed = {Path(os.path.abspath(f)).parent for f in touching}
        roots = [r for r in roots if _reaches(r, calls, changed)]
    return [_candidate(root, tree, calls, texts, problems, max_bytes) for root in roots]


def _reaches(root: Path, calls: dict[Path, set[Path]], changed: set[Path]) -> bool:
    """Whether `root` or a module it calls, transitively, is one of the `changed` directories."""
    seen: set[Path] = set()
    queue = [root]
    while queue:
        directory = queue.pop()
        if directory in seen:
            continue
        seen.add(directory)
        if Path(os.path.abspath(directory)) in changed:
            return True
        queue += calls.get(directory, ())
    return False


def _read(path: Path, tree: Tree,
          max_bytes: int) -> tuple[dict[Path, str], dict[Path, tuple[str, ...]]]:
    """The text of every source file, and each unreadable file's problems."""
    texts: dict[Path, str] = {}
    problems: dict[Path, tuple[str, ...]] = {}
    total = 0
    for files in tree.dirs.values():
        for file in files:
            try:
                data = read_limited(file, max_bytes)
            except InputError as exc:
                problems[file] = (exc.reason,)
                continue
            total += len(data)
            if total > TREE_FACTOR * max_bytes:
                raise InputError(path, f"more than {TREE_FACTOR * max_bytes} bytes of Terraform "
                                       "below it; point iacforge at fewer module directories")
            one = from_bytes(data, name=file.name, source=str(file), max_bytes=max_bytes)
            if one.problems:
                problems[file] = tuple(p.removeprefix(f"{file.name}: ") for p in one.problems)
            else:
                texts[file] = next(iter(one.files.values()))
    return texts, problems


def _local_calls(directory: Path, texts: dict[Path, str]) -> set[Path]:
    """The directories `directory`'s module blocks call by a local path (unparseable: none)."""
    files = {f.name: t for f, t in texts.items() if f.parent == directory}
    model = parse_files(files).model
    if model is None:
        return set()
    found = set()
    for block in model.of_kind("module"):
        source = block.attr("source")
        if isinstance(source, str) and source.startswith(("./", "../")):
            found.add(Path(os.path.normpath(directory / source)))
    return found


def _candidate(root: Path, tree: Tree, calls: dict[Path, set[Path]], texts: dict[Path, str],
               problems: dict[Path, tuple[str, ...]], max_bytes: int) -> Candidate:
    """The root's files and those of the local modules it calls inside it, named from the root."""
    members, queue = [root], [root]
    while queue:
        for target in sorted(calls.get(queue.pop(), ())):
            if target in tree.dirs and target not in members and target.is_relative_to(root):
                members.append(target)
                queue.append(target)
    files: dict[str, str] = {}
    found: list[str] = []
    total = 0
    for directory in sorted(members):
        for file in tree.dirs[directory]:
            rel = file.relative_to(root).as_posix()
            found += (f"{rel}: {p}" for p in problems.get(file, ()))
            if file in texts:
                total += len(texts[file].encode("utf-8", "surrogatepass"))
                files[rel] = texts[file]
    if total > max_bytes:
        return Candidate({}, str(root), (f"{root}: candidate is larger than {max_bytes} bytes",))
    return Candidate(files, str(root), tuple(found))
