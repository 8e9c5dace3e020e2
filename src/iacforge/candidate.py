"""The unit of verification: the files of one Terraform root module."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Candidate:
    """The files of one Terraform root module, plus where they came from.

    >>> c = Candidate({"main.tf": 'resource "aws_s3_bucket" "b" {}'}, source="example")
    >>> len(c.content_hash())
    64
    """

    files: dict[str, str]
    source: str = ""
    #: Problems found while building the candidate (bad bytes, oversize input, no code in a
    #: reply). The extract stage reports them; they never raise.
    problems: tuple[str, ...] = field(default=())

    def content_hash(self) -> str:
        """A SHA-256 over the file names and texts, independent of insertion order."""
        h = hashlib.sha256()
        for name in sorted(self.files):
            h.update(name.encode("utf-8", "surrogatepass"))
            h.update(b"\0")
            h.update(self.files[name].encode("utf-8", "surrogatepass"))
            h.update(b"\0")
        for problem in self.problems:
            h.update(problem.encode())
            h.update(b"\0")
        return h.hexdigest()
