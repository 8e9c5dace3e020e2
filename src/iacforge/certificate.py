"""Certificate: the ordered stage verdicts for one candidate, its verdict, and how it renders.

The verdict (`status`, `passed`) is decided by the correctness stages; security and lint
count only when named in the certificate's `fail_on` (see `iacforge.formal`). Repair
feedback for an LLM is `iacforge.render.feedback.render_feedback(cert)`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from iacforge.diagnostics import StageResult, Status
from iacforge.formal import ADVISORY, gates

#: Bumped whenever the JSON shape changes; documented in the README.
SCHEMA_VERSION = 3


@dataclass(frozen=True)
class Certificate:
    """The ordered stage results for one candidate, with the evidence they were judged on.

    >>> from iacforge.diagnostics import StageResult
    >>> cert = Certificate("ab12", (StageResult("extract", "pass"), StageResult("parse", "fail")))
    >>> cert.status, cert.failed_stage
    ('fail', 'parse')
    >>> advised = Certificate("cd34", (StageResult("parse", "pass"), StageResult("lint", "fail")))
    >>> advised.status, Certificate("cd34", advised.stages, fail_on=("lint",)).status
    ('pass', 'fail')
    """

    content_hash: str
    stages: tuple[StageResult, ...]
    #: `terraform show -json` of the saved plan, when plan ran and succeeded.
    plan: dict[str, Any] | None = None
    #: The evaluated Rego `data` document for the intent policy's package, when one was given.
    rego: dict[str, Any] | None = None
    source: str = ""
    files: tuple[str, ...] = field(default=())
    #: Advisory stages (security, lint) whose failure fails the verdict too.
    fail_on: tuple[str, ...] = ()
    #: True when the verdict came from the verdict cache (its stage times are the first run's).
    #: Provenance, not verdict: left out of equality.
    cached: bool = field(default=False, compare=False)

    def stage(self, name: str) -> StageResult | None:
        """The result of stage `name`, or None when it was not requested."""
        return next((s for s in self.stages if s.stage == name), None)

    def gating(self) -> tuple[StageResult, ...]:
        """The stages that decide the verdict: the correctness stages in order, then the
        advisory ones named in `fail_on` or found `unsafe`."""
        first = [s for s in self.stages if s.stage not in ADVISORY]
        return (*first, *(s for s in self.stages if s.stage in ADVISORY
                          and gates(s.stage, self.fail_on, s.status)))

    @property
    def status(self) -> Status:
        """The verdict: `pass` when every gating stage passed, else the status of the first
        gating stage that did not."""
        blocking = self._blocking()
        return "pass" if blocking is None else blocking.status

    @property
    def passed(self) -> bool:
        return self.status == "pass"

    @property
    def failed_stage(self) -> str | None:
        """The first gating stage that did not pass, or None."""
        blocking = self._blocking()
        return None if blocking is None else blocking.stage

    def _blocking(self) -> StageResult | None:
        return next((s for s in self.gating() if s.status != "pass"), None)

    def why(self) -> str:
        """One line on why it did not pass: first stage not passing, its status, first error."""
        stage = self.failed_stage
        if stage is None:
            return "pass"
        result = self.stage(stage)
        assert result is not None
        first = next((d.summary for d in result.diagnostics if d.severity == "error"), "")
        return f"{stage} {result.status}: {first}"[:300]

    def passes(self, stage: str) -> bool:
        """True when `stage` ran and passed."""
        result = self.stage(stage)
        return result is not None and result.passed

    def to_dict(self, *, include_plan: bool = False) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "content_hash": self.content_hash,
            "source": self.source,
            "files": list(self.files),
            "status": self.status,
            "fail_on": list(self.fail_on),
            "cached": self.cached,
            "stages": [s.to_dict() for s in self.stages],
            "rego": self.rego,
        }
        if include_plan:
            data["plan"] = self.plan
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Certificate:
        return cls(
            content_hash=data["content_hash"],
            stages=tuple(StageResult.from_dict(s) for s in data["stages"]),
            plan=data.get("plan"),
            rego=data.get("rego"),
            source=data.get("source", ""),
            files=tuple(data.get("files", ())),
            fail_on=tuple(data.get("fail_on", ())),
            cached=bool(data.get("cached", False)),
        )

    def to_json(self, *, include_plan: bool = False, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(include_plan=include_plan), indent=indent, sort_keys=False)
