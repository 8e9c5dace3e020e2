"""RunDir: an evaluation run on disk, written as it goes, so a killed run resumes losslessly.

Layout (the documented results schema, see the README's "Evaluate" section):

    run.json        config, task digest, versions, git hash, seed: written once, at creation
    replies.jsonl   one line per model reply, written right after the model returned it
    samples.jsonl   one line per verified attempt (reply, files, certificate, reward)
    results.json    the metrics, rewritten whenever a run finishes

Lines are keyed by (task_id, sample, turn). Each append is flushed and fsynced before the
harness moves on, so a kill loses at most the work in flight. A line cut short by a kill is
dropped when the run is opened again; a key seen twice counts once (the first line wins).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
from collections.abc import Iterable
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from iacforge._version import __version__
from iacforge.errors import IacforgeError

#: Bumped whenever a record's shape changes; documented in the README.
SCHEMA_VERSION = 1
Key = tuple[str, int, int]
_DISTRIBUTIONS = ("checkov", "gordon-to-regorus", "moto", "numpy", "scipy")


class RunDir:
    """The files of one evaluation run.

    >>> import tempfile
    >>> run = RunDir.open(tempfile.mkdtemp(), {"model": "scripted:x.json"})
    >>> run.append("replies", [{"task_id": "t", "sample": 0, "turn": 1, "reply": "hi"}])
    >>> list(run.load("replies"))
    [('t', 0, 1)]
    """

    def __init__(self, path: Path, info: dict[str, Any]) -> None:
        self.path = path
        self.info = info

    @classmethod
    def open(cls, path: str | Path, identity: dict[str, Any],
             extra: dict[str, Any] | None = None) -> RunDir:
        """Create the run, or resume it when `identity` matches the one it was made with."""
        path = Path(path)
        meta = path / "run.json"
        if meta.is_file():
            info = json.loads(meta.read_text(encoding="utf-8"))
            _check_same(path, info.get("identity", {}), identity)
        else:
            path.mkdir(parents=True, exist_ok=True)
            info = {"schema_version": SCHEMA_VERSION, "created": _now(), "identity": identity,
                    **(extra or {})}
            _write_atomic(meta, json.dumps(info, indent=2) + "\n")
        run = cls(path, info)
        for name in ("replies", "samples"):
            _drop_torn_tail(run.file(name))
        return run

    @classmethod
    def read(cls, path: str | Path) -> RunDir:
        """An existing run, read only (for reports)."""
        path = Path(path)
        meta = path / "run.json"
        if not meta.is_file():
            raise IacforgeError(f"{path} is not an evaluation run (no run.json)")
        return cls(path, json.loads(meta.read_text(encoding="utf-8")))

    def file(self, name: str) -> Path:
        return self.path / f"{name}.jsonl"

    def load(self, name: str) -> dict[Key, dict[str, Any]]:
        """The records of `replies` or `samples` by key; the first line of a key wins."""
        records: dict[Key, dict[str, Any]] = {}
        path = self.file(name)
        if not path.is_file():
            return records
        with path.open(encoding="utf-8") as fh:
            for number, line in enumerate(fh, start=1):
                if not line.endswith("\n"):
                    break  # a torn last line (a reader racing a writer): not written yet
                try:
                    record = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise IacforgeError(f"{path}:{number}: damaged record ({exc.msg}); "
                                        "remove the line to resume") from None
                records.setdefault(key_of(record), record)
        return records

    def append(self, name: str, records: Iterable[dict[str, Any]]) -> None:
        """Append records as JSON lines and force them to disk before returning."""
        lines = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
        if not lines:
            return
        with self.file(name).open("a", encoding="utf-8") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())

    def write_results(self, results: dict[str, Any]) -> Path:
        target = self.path / "results.json"
        _write_atomic(target, json.dumps(results, indent=2) + "\n")
        return target


def key_of(record: dict[str, Any]) -> Key:
    return (record["task_id"], int(record["sample"]), int(record["turn"]))


def environment() -> dict[str, Any]:
    """Versions and the git commit a run's numbers depend on."""
    versions = {"iacforge": __version__, "python": platform.python_version()}
    for name in _DISTRIBUTIONS:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return {"versions": versions, "git": git_commit(), "host": platform.node()}


def git_commit() -> str | None:
    """`git describe --always --dirty` of the checkout iacforge runs from, or None."""
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty", "--abbrev=40"],
                             cwd=Path(__file__).parent, capture_output=True, text=True,
                             timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def _check_same(path: Path, stored: dict[str, Any], identity: dict[str, Any]) -> None:
    changed = sorted(k for k in stored.keys() | identity.keys() if stored.get(k) != identity.get(k))
    if changed:
        detail = "; ".join(f"{k}: {stored.get(k)!r} then, {identity.get(k)!r} now"
                           for k in changed)
        raise IacforgeError(f"{path} holds a run with other settings ({detail}); resume it "
                            "with the same command, or choose another --run directory")


def _drop_torn_tail(path: Path) -> None:
    """Cut a last line that a kill left without its newline: it was never complete."""
    if not path.is_file():
        return
    with path.open("rb+") as fh:
        data = fh.read()
        if data and not data.endswith(b"\n"):
            fh.truncate(data.rfind(b"\n") + 1)


def _write_atomic(path: Path, text: str) -> None:
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
