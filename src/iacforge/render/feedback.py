"""Repair feedback: a plain-text account of why a certificate failed, for an LLM's next try.

Most important first: the first stage that blocks the verdict (a correctness stage before an
advisory one) and its errors, the intent rules that are false, then, when what blocks is an
advisory stage, a few findings of the advisory stages that gate (`Certificate.fail_on`). An
advisory stage that does not gate blocks nothing and is not mentioned. The wording lives in
`feedback_templates.json`; the text is deterministic and has no colour codes.
"""

from __future__ import annotations

import functools
import json
from importlib import resources
from typing import Any

from iacforge.certificate import Certificate
from iacforge.diagnostics import NOT_PASSED, Diagnostic, StageResult
from iacforge.formal import ADVISORY
from iacforge.render.printable import printable

#: Characters the whole feedback text may take.
BUDGET = 1500
MAX_ADVISORIES = 5
#: Characters one listed line may take before it is cut.
LINE_LIMIT = 300


@functools.cache
def templates() -> dict[str, Any]:
    """The wording, loaded once from the package data file."""
    text = resources.files(__package__).joinpath("feedback_templates.json").read_text("utf-8")
    return json.loads(text)


def render_feedback(cert: Certificate, budget: int = BUDGET) -> str:
    """Why `cert` failed, in at most `budget` characters; one line when nothing blocks it.

    Skipped stages are not failures here: a stage skipped after an earlier failure says nothing
    the failure does not.
    """
    t = templates()
    problem = next((s for s in cert.gating() if s.status in NOT_PASSED), None)
    if problem is None:
        return t["all_passed"]
    head = [_header(problem)]
    rules = false_rules(cert.rego)
    tail = [_clip(t["false_rules"].format(rules=", ".join(rules)))] if rules else []
    room = budget - _size(head) - _size(tail)
    errors = [d for d in problem.diagnostics if d.severity == "error"] or list(problem.diagnostics)
    shown = _fit(errors, room, more=t["more"])
    lines = head + shown + tail
    if problem.stage in ADVISORY:
        room -= _size(shown) + _size([t["advisories"]])
        advice = _fit(_advisories(cert, problem)[:MAX_ADVISORIES], room)
        if advice:
            lines += [t["advisories"], *advice]
    text = "\n".join(lines)
    return text if len(text) <= budget else text[: budget - 3] + "..."


def false_rules(rego: dict[str, Any] | None) -> list[str]:
    """Dotted paths of the leaves that are `false` in an evaluated Rego `data` document.

    >>> false_rules({"has_bucket": True, "checks": {"versioned": False}, "tags": [False]})
    ['checks.versioned', 'tags[0]']
    """
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if value is False:
            found.append(path)
        elif isinstance(value, dict):
            for key, child in value.items():
                walk(child, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for i, child in enumerate(value):
                walk(child, f"{path}[{i}]")

    walk(rego or {}, "")
    return found


def _header(problem: StageResult) -> str:
    t = templates()
    hint = t["hints"].get(problem.stage, "")
    return _clip(t["status"][problem.status].format(stage=problem.stage, hint=hint).strip())


def _advisories(cert: Certificate, problem: StageResult) -> list[Diagnostic]:
    """Errors then warnings of the gating advisory stages, less the one reported in full."""
    stages = [s for s in cert.gating() if s.stage in ADVISORY and s is not problem]
    found = [d for s in stages for d in s.diagnostics]
    return [d for severity in ("error", "warning") for d in found if d.severity == severity]


def _fit(diagnostics: list[Diagnostic], room: int, more: str | None = None) -> list[str]:
    """The lines of as many `diagnostics` as fit in `room` characters, in order; with `more`
    (a template with `{count}`), a last line saying how many were left out."""
    lines: list[str] = []
    reserve = len(more.format(count=len(diagnostics))) + 1 if more else 0
    for i, diag in enumerate(diagnostics):
        line = _line(diag)
        rest = room - (0 if i == len(diagnostics) - 1 else reserve)
        if len(line) + 1 > rest:
            if more:
                lines.append(more.format(count=len(diagnostics) - i))
            break
        lines.append(line)
        room -= len(line) + 1
    return lines


def _line(diag: Diagnostic) -> str:
    where = diag.where() or diag.address or ""
    text = " ".join(f"{diag.summary}: {diag.detail}".split()) if diag.detail else diag.summary
    return _clip(printable(  # a candidate's text is shown, never obeyed by a terminal
        templates()["diagnostic"].format(
            where=f"{where}: " if where else "",
            rule=f"[{diag.rule_id}] " if diag.rule_id else "",
            text=text,
        )
    ))


def _clip(line: str) -> str:
    return line if len(line) <= LINE_LIMIT else line[: LINE_LIMIT - 3] + "..."


def _size(lines: list[str]) -> int:
    return sum(len(line) + 1 for line in lines)
