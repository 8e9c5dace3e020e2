"""Terminal table: one stage table per certificate, with the diagnostics listed below it.

Every cell is a plain `Text`, never rich markup, and passes through `printable`: a candidate's
`[/]` or `ESC[2J` is shown as written, not obeyed.
"""

from __future__ import annotations

import io
import os
import sys
from numbers import Real

from rich.console import Console
from rich.table import Table
from rich.text import Text

from iacforge.certificate import Certificate
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.formal import ADVISORY, gates
from iacforge.render.printable import printable

STATUS_STYLES: dict[str, str] = {
    "pass": "green",
    "fail": "red",
    "error": "magenta",
    "unsafe": "bold red",
    "skipped": "dim",
}
SEVERITY_STYLES: dict[str, str] = {"error": "red", "warning": "yellow", "info": "dim"}

#: `metrics` keys the intent stage reports; shown together as "3/4 intent rules true".
RULES_TRUE, RULES_TOTAL = "rules_true", "rules_total"


def render_table(certs: list[Certificate], color: bool | None = None,
                 width: int | None = None) -> str:
    """The certificates as terminal tables.

    Args:
        color: ANSI colours on or off; None colours when stdout is a terminal and `NO_COLOR`
            is unset. With False the text holds no escape codes at all.
        width: the line width the tables are laid out for; None: what rich finds for stdout
            (`COLUMNS` when set, else the terminal's width, else 80). Long cells wrap.
    """
    if color is None:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    if width is None:
        width = Console(file=sys.stdout).width
    out = io.StringIO()
    console = Console(
        file=out,
        width=width,
        color_system="standard" if color else None,
        force_terminal=color,
        no_color=not color,
        highlight=False,
        emoji=False,
    )
    for cert in certs:
        console.print(_title(cert))  # on its own line: a table's title wraps at its width
        console.print(_stage_table(cert))
        diagnostics = _diagnostic_table(cert)
        if diagnostics.row_count:
            console.print(diagnostics)
    return out.getvalue()


def _title(cert: Certificate) -> Text:
    title = Text.assemble(
        (printable(cert.source) or "(no source)", "bold"),
        f"  {cert.content_hash[:12]}  ",
        _status_text(cert.status),
    )
    if cert.cached:
        title.append("  (cached: stage times are the first run's)", style="dim")
    title.overflow = "fold"
    return title


def _stage_table(cert: Certificate) -> Table:
    table = Table()
    table.add_column("stage", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("seconds", justify="right", no_wrap=True)
    table.add_column("summary", overflow="fold")
    for stage in cert.stages:
        seconds = f"{stage.seconds:.2f}"
        table.add_row(_plain(stage.stage), _stage_status(cert, stage), seconds,
                      _plain(summary(stage)))
    return table


def _stage_status(cert: Certificate, stage: StageResult) -> Text:
    """The stage's status; "fail (advisory)" where a failing stage does not gate the verdict
    (security or lint without `--fail-on`)."""
    text = _status_text(stage.status)
    if stage.stage in ADVISORY and not gates(stage.stage, cert.fail_on) and not stage.passed \
            and stage.status != "skipped":
        text.append(" (advisory)", style="dim")
    return text


def _diagnostic_table(cert: Certificate) -> Table:
    table = Table(title="diagnostics", title_justify="left", show_edge=False)
    for name in ("stage", "severity", "where", "rule", "message"):
        table.add_column(name, overflow="fold")
    for stage in cert.stages:
        for diag in stage.diagnostics:
            table.add_row(
                _plain(stage.stage),
                Text(printable(diag.severity), style=SEVERITY_STYLES.get(diag.severity, "")),
                _plain(diag.where() or diag.address or ""),
                _plain(diag.rule_id or ""),
                _plain(_message(diag)),
            )
    return table


def summary(stage: StageResult) -> str:
    """A few words on a stage: diagnostic counts, then its metrics.

    >>> summary(StageResult("intent", "fail", metrics={"rules_true": 3, "rules_total": 4}))
    '3/4 intent rules true'
    >>> summary(StageResult("security", "pass", metrics={"compliance": 0.8333}))
    'compliance 0.83'
    """
    parts = [_count(n, severity) for severity in ("error", "warning") if (n := _n(stage, severity))]
    metrics = dict(stage.metrics)
    if RULES_TRUE in metrics and RULES_TOTAL in metrics:
        parts.append(f"{metrics.pop(RULES_TRUE)}/{metrics.pop(RULES_TOTAL)} intent rules true")
    parts.extend(_metric(key, value) for key, value in metrics.items() if _is_scalar(value))
    return ", ".join(parts)


def _n(stage: StageResult, severity: str) -> int:
    return sum(1 for d in stage.diagnostics if d.severity == severity)


def _count(n: int, severity: str) -> str:
    return f"{n} {severity}{'' if n == 1 else 's'}"


def _is_scalar(value: object) -> bool:
    return isinstance(value, str | Real)


def _metric(key: str, value: object) -> str:
    shown = f"{value:.2f}" if isinstance(value, float) else str(value)
    return f"{key} {shown}"


def _status_text(status: str) -> Text:
    return Text(printable(status), style=STATUS_STYLES.get(status, ""))


def _plain(text: str) -> Text:
    """A cell shown as written: no markup, control characters escaped."""
    return Text(printable(text))


def _message(diag: Diagnostic) -> str:
    first_line = next((line.strip() for line in diag.detail.splitlines() if line.strip()), "")
    return f"{diag.summary}: {first_line}" if first_line else diag.summary
