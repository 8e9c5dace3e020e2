"""Exact and near-duplicate removal over tasks (MinHash LSH from datasketch).

Two tasks are exact duplicates when their kind, prompt (whitespace-collapsed, lower case) and
configurations are equal; near duplicates when the estimated Jaccard similarity of their
word 3-gram sets (prompt plus the resource blocks of every file; the terraform and provider
blocks every task shares are left out) reaches `threshold`. The first task of each group is
kept, in input order.

>>> a = Task("a", "generate", "Create an S3 bucket named logs for the audit team today.")
>>> b = Task("b", "generate", "create an S3 bucket  named logs for the audit team today.")
>>> result = dedup([a, b])
>>> [t.id for t in result.kept], result.exact
(['a'], {'b': 'a'})
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from iacforge.data.task import Task

_TOKEN = re.compile(r"[A-Za-z0-9_]+|[^\sA-Za-z0-9_]")
_BOILERPLATE = re.compile(r'^(terraform|provider\s+"[^"]*")\s*\{.*?^\}\s*$', re.S | re.M)


@dataclass
class DedupResult:
    """The tasks kept, and for each dropped task id, the id of the task it duplicates."""

    kept: list[Task]
    exact: dict[str, str] = field(default_factory=dict)
    near: dict[str, str] = field(default_factory=dict)


def code_text(files: dict[str, str]) -> str:
    """The files' text without the terraform and provider blocks every task shares."""
    return "\n".join(_BOILERPLATE.sub("", files[name]) for name in sorted(files))


def tokens(text: str) -> list[str]:
    return [t.lower() for t in _TOKEN.findall(text)]


def shingles(task: Task, n: int = 3) -> set[bytes]:
    """Word n-grams of the prompt and the configurations (initial and reference)."""
    words = [*tokens(task.prompt), "\0", *tokens(code_text(task.files)), "\0",
             *tokens(code_text(task.reference))]
    return {" ".join(words[i:i + n]).encode() for i in range(max(1, len(words) - n + 1))}


def exact_key(task: Task) -> str:
    prompt = " ".join(task.prompt.lower().split())
    parts = [task.kind, prompt, *(f"{k}\0{' '.join(v.split())}" for k, v in
                                  sorted(task.files.items())), "\1",
             *(f"{k}\0{' '.join(v.split())}" for k, v in sorted(task.reference.items()))]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def dedup(tasks: Iterable[Task], *, threshold: float = 0.9, num_perm: int = 128,
          near: bool = True) -> DedupResult:
    """Drop exact duplicates, then near duplicates (when `near`), keeping first occurrences."""
    result = DedupResult(kept=[])
    first: dict[str, str] = {}
    unique: list[Task] = []
    for task in tasks:
        key = exact_key(task)
        if key in first:
            result.exact[task.id] = first[key]
        else:
            first[key] = task.id
            unique.append(task)
    if not near:
        result.kept = unique
        return result
    result.kept = _near(unique, threshold, num_perm, result.near)
    return result


def _near(tasks: Sequence[Task], threshold: float, num_perm: int,
          dropped: dict[str, str]) -> list[Task]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    signatures: dict[str, MinHash] = {}
    kept: list[Task] = []
    for task in tasks:
        signature = MinHash(num_perm=num_perm, seed=1)
        signature.update_batch(list(shingles(task)))
        # LSH returns candidates; keep only those whose estimated similarity is high enough
        similar = sorted(k for k in lsh.query(signature)
                         if signatures[k].jaccard(signature) >= threshold)
        if similar:
            dropped[task.id] = similar[0]
            continue
        lsh.insert(task.id, signature)
        signatures[task.id] = signature
        kept.append(task)
    return kept
