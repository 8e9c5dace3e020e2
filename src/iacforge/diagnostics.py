"""Diagnostic and StageResult: what every verifier stage reports, in one shape."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
Status = Literal["pass", "fail", "error", "unsafe", "skipped"]

#: Statuses in which the candidate was judged; `error` and `skipped` mean it was not.
JUDGED: frozenset[str] = frozenset({"pass", "fail", "unsafe"})
#: Judged and found wanting: the candidate's fault.
FAILING: frozenset[str] = frozenset({"fail", "unsafe"})
#: Statuses that stop a stage from counting as passed, other than being skipped after one.
NOT_PASSED: frozenset[str] = FAILING | {"error"}


@dataclass(frozen=True)
class Diagnostic:
    """One finding: a terraform error, a Rego rule value, a checkov check or a lint rule.

    >>> Diagnostic("error", "Unsupported argument", file="main.tf", line=3).where()
    'main.tf:3'
    """

    severity: Severity
    summary: str
    detail: str = ""
    file: str | None = None
    line: int | None = None
    column: int | None = None
    address: str | None = None
    rule_id: str | None = None
    #: Where the finding ends, when the tool said (terraform's `range.end`, checkov's last line).
    end_line: int | None = None
    end_column: int | None = None
    #: Why the finding does not count, when the code suppressed it (a `checkov:skip` reason).
    suppressed: str | None = None

    def where(self) -> str:
        """`file:line:column` with whatever parts are known, or an empty string."""
        if not self.file:
            return ""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostic:
        """Read `to_dict()` output; certificates written before a field existed lack it."""
        return cls(**data)


@dataclass(frozen=True)
class StageResult:
    """The verdict of one stage on one candidate.

    `error` means the verifier itself could not judge (timeout, crash, unsupported input it
    cannot fetch); it is never the candidate's fault silently turned into a pass or a fail.
    `metrics` carries stage-specific numbers (checkov compliance, intent rule counts).
    """

    stage: str
    status: Status
    diagnostics: tuple[Diagnostic, ...] = ()
    seconds: float = 0.0
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    def to_dict(self) -> dict[str, Any]:
        return {
            "stage": self.stage,
            "status": self.status,
            "seconds": round(self.seconds, 4),
            "metrics": self.metrics,
            "diagnostics": [d.to_dict() for d in self.diagnostics],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StageResult:
        return cls(
            stage=data["stage"],
            status=data["status"],
            seconds=data.get("seconds", 0.0),
            metrics=dict(data.get("metrics", {})),
            diagnostics=tuple(Diagnostic.from_dict(d) for d in data.get("diagnostics", [])),
        )
