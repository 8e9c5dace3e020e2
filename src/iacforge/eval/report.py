"""Reports over one or more runs: a self-contained HTML page and a markdown summary.

The page needs nothing beside itself: plots are PNG `data:` URIs, the style sheet is inline.
Both documents are built from the same tables (header + rows of text), so they always agree.
Numbers are recomputed from each run's `samples.jsonl`, so a report on an unfinished run
shows what it has so far.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from iacforge._version import __version__
from iacforge.eval import plots
from iacforge.eval.harness import results_of
from iacforge.eval.irt import IRTFit, fit_2pl, responses_from
from iacforge.eval.rundir import RunDir

Table = tuple[list[str], list[list[str]]]
#: A task's prompt is clipped to this many characters in the tasks table.
PROMPT_CHARS = 160
_STYLE = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; color: #222; }
h1 { font-size: 1.6rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .8rem 0; } caption { text-align: left; color: #555; }
th, td { border: 1px solid #ddd; padding: .25rem .55rem; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.flagged td { background: #fff4e0; } figure { margin: 1rem 0; } img { max-width: 100%; }
.note { color: #666; }
"""


@dataclass(frozen=True)
class RunReport:
    """One run as the report sees it: its name, run.json and recomputed results."""

    name: str
    path: Path
    info: dict[str, Any]
    results: dict[str, Any]


def load_runs(paths: Sequence[str | Path]) -> list[RunReport]:
    """Read runs; two runs in folders of the same name are told apart by their parent."""
    runs = [RunDir.read(p) for p in paths]
    names = [r.path.resolve().name for r in runs]
    reports = []
    for run, name in zip(runs, names, strict=True):
        if names.count(name) > 1:
            name = f"{run.path.resolve().parent.name}/{name}"
        reports.append(RunReport(name, run.path, run.info, results_of(run)))
    return reports


def write_report(runs: Sequence[RunReport], out: str | Path) -> tuple[Path, Path]:
    """Write `report.html` and `summary.md` into `out`; returns their paths."""
    if not runs:
        raise ValueError("a report needs at least one run")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    page, summary = out / "report.html", out / "summary.md"
    irt = item_analysis(runs)
    page.write_text(render_html(runs, irt), encoding="utf-8")
    summary.write_text(render_markdown(runs, irt), encoding="utf-8")
    return page, summary


def item_analysis(runs: Sequence[RunReport], criterion: str = "correct") -> IRTFit | None:
    """The 2PL fit over the runs, or None with fewer than two runs judged on `criterion`."""
    responses = responses_from({r.name: r.results for r in runs}, criterion)
    if sum(bool(tasks) for tasks in responses.values()) < 2:
        return None
    return fit_2pl({run: tasks for run, tasks in responses.items() if tasks})


def render_html(runs: Sequence[RunReport], irt: IRTFit | None) -> str:
    docs = [(r.name, r.results) for r in runs]
    figures = [("Pass rate per stage", plots.criteria_bars(docs)),
               ("Mean security compliance (a share of checks, not of samples)",
                plots.compliance_bars(docs)),
               ("FV-iii pass rate per difficulty", plots.difficulty_bars(docs))]
    if any(_samples_per_task(doc) > 1 for _, doc in docs):  # with n = 1 pass@k is one point
        figures.append(("pass@k (FV-iii, IaC-Eval rule)", plots.pass_at_k_curves(docs)))
    figures.append(("FV-iii pass rate per resource family", plots.family_bars(docs)))
    if any(len(doc["by_turn"]) > 1 for _, doc in docs):
        figures.append(("FV-iii pass rate by repair turns", plots.turn_curves(docs)))
    parts = [f"<h1>iacforge evaluation report</h1><p class='note'>{_generated()}</p>",
             "<h2>Runs</h2>", _html_table(runs_table(runs)),
             "<h2>Metrics</h2>", _html_table(metrics_table(runs)),
             "<h2>Plots</h2>",
             *(f"<figure><img alt='{html.escape(title)}' src='{uri}'>"
               f"<figcaption>{html.escape(title)}</figcaption></figure>" for title, uri in figures),
             "<h2>By difficulty</h2>", _html_table(breakdown_table(runs, "by_difficulty")),
             "<h2>By resource family</h2>", _html_table(breakdown_table(runs, "by_family")),
             "<h2>Stages</h2>", _html_table(stages_table(runs)),
             "<h2>Tasks</h2>", _html_table(tasks_table(runs))]
    if irt is not None:
        parts += ["<h2>Item analysis (2PL IRT)</h2>", _html_table(abilities_table(irt)),
                  _html_table(items_table(irt), flagged=lambda row: row[-1] != "")]
    body = "\n".join(parts)
    return (f"<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>iacforge evaluation report</title><style>{_STYLE}</style></head>"
            f"<body>\n{body}\n</body></html>\n")


def render_markdown(runs: Sequence[RunReport], irt: IRTFit | None) -> str:
    parts = ["# iacforge evaluation summary", "", _generated(), "",
             "## Runs", "", _md_table(runs_table(runs)), "",
             "## Metrics", "", _md_table(metrics_table(runs)), "",
             "## By difficulty", "", _md_table(breakdown_table(runs, "by_difficulty")), "",
             "## By resource family", "", _md_table(breakdown_table(runs, "by_family")), "",
             "## Tasks not solved", "", _md_table(failures_table(runs)), ""]
    if irt is not None:
        flagged = [row for row in items_table(irt)[1] if row[-1]]
        parts += ["## Item analysis (2PL IRT)", "", _md_table(abilities_table(irt)), "",
                  f"{len(flagged)} of {len(irt.items)} tasks tell the runs apart poorly:", "",
                  _md_table((items_table(irt)[0], flagged)), ""]
    return "\n".join(parts)


def runs_table(runs: Sequence[RunReport]) -> Table:
    header = ["Run", "Model", "Tasks", "Samples", "Turns", "Stages", "Created", "Git"]
    rows = []
    for r in runs:
        ident = r.info.get("identity", {})
        rows.append([r.name, str(ident.get("model", "")), str(len(r.info.get("tasks", []))),
                     str(ident.get("samples")), str(ident.get("turns")),
                     ",".join(ident.get("stages") or ["default"]), r.info.get("created", ""),
                     _short_git((r.info.get("environment") or {}).get("git"))])
    return header, rows


def metrics_table(runs: Sequence[RunReport]) -> Table:
    def row(label: str, value: Callable[[dict[str, Any]], str]) -> list[str]:
        return [label, *(value(r.results["overall"]) for r in runs)]

    rows = [row("FV-i compilability", lambda o: _pct(o["rates"]["compile"])),
            row("FV-ii deployability (plan)", lambda o: _pct(o["rates"]["deploy"])),
            row("FV-iii correctness, IaC-Eval rule", lambda o: _pct(o["rates"]["correct"])),
            row("FV-iii correctness, strict rule",
                lambda o: _pct(o["rates"]["correct_strict"])),
            row("lint pass rate", lambda o: _pct(o["rates"]["lint"])),
            row("mean security compliance", lambda o: _pct(o["rates"]["compliance"]))]
    ks = sorted({k for r in runs for k in r.results["overall"]["pass_at_k"]["correct"]}, key=int)
    for criterion, label in (("correct", "IaC-Eval"), ("correct_strict", "strict")):
        for k in ks:
            rows.append(row(f"pass@{k}, {label}",
                            lambda o, k=k, c=criterion: _num(o["pass_at_k"][c].get(k))))
    rows += [row("tasks / samples", lambda o: f"{o['tasks']} / {o['samples']}"),
             row("samples the verifier could not judge", lambda o: str(o["verifier_errors"])),
             row("seconds per task", lambda o: _num(o.get("seconds_per_task"), 1))]
    return ["Metric", *(r.name for r in runs)], rows


def breakdown_table(runs: Sequence[RunReport], section: str) -> Table:
    groups = list(dict.fromkeys(g for r in runs for g in r.results[section]))
    rows = []
    for group in groups:
        cells = [group]
        for r in runs:
            g = r.results[section].get(group)
            cells.append("—" if g is None else
                         f"{_plural(g['tasks'], 'task')}: {_pct(g['rates']['compile'])} / "
                         f"{_pct(g['rates']['deploy'])} / {_pct(g['rates']['correct'])}")
        rows.append(cells)
    return ["Group", *(f"{r.name} (FV-i / FV-ii / FV-iii)" for r in runs)], rows


def stages_table(runs: Sequence[RunReport]) -> Table:
    stages = list(dict.fromkeys(s for r in runs for s in r.results["stages"]))
    rows = [[stage, *(", ".join(f"{n} {status}" for status, n in
                                sorted(r.results["stages"].get(stage, {}).items())) or "—"
                      for r in runs)] for stage in stages]
    return ["Stage", *(r.name for r in runs)], rows


def tasks_table(runs: Sequence[RunReport]) -> Table:
    """One row per task: what it asks (prompt, resources) beside how each run did."""
    meta = {t["id"]: t for r in runs for t in r.info.get("tasks", [])}
    rows_by_run = [{row["task_id"]: row for row in r.results["tasks"]} for r in runs]
    rows = []
    for task_id, task in meta.items():
        cells = [task_id, _clip(task.get("prompt") or "", PROMPT_CHARS),
                 ", ".join(task.get("resources") or []), str(task.get("difficulty") or ""),
                 str(task.get("family") or "")]
        for by_id in rows_by_run:
            row = by_id.get(task_id)
            cells.append("—" if row is None else _task_cell(row))
        rows.append(cells)
    return ["Task", "Prompt", "Resources", "Difficulty", "Family", *(r.name for r in runs)], rows


def failures_table(runs: Sequence[RunReport]) -> Table:
    rows = [[r.name, row["task_id"], row["failure"]["stage"], _shortfall(row["failure"]),
             _why(row["failure"])]
            for r in runs for row in r.results["tasks"] if row["failure"]]
    return ["Run", "Task", "Stage", "Status", "Why (first sample that fell short)"], rows


def abilities_table(irt: IRTFit) -> Table:
    rows = [[run, _num(theta)] for run, theta in
            sorted(irt.abilities.items(), key=lambda kv: -kv[1])]
    return ["Run", "Ability θ"], rows


def items_table(irt: IRTFit) -> Table:
    rows = [[item.task_id, _num(item.difficulty), _num(item.discrimination), item.reason]
            for item in sorted(irt.items, key=lambda i: i.difficulty)]
    return ["Task", "Difficulty b", "Discrimination a", "Flag"], rows


def _task_cell(row: dict[str, Any]) -> str:
    c, n = row["counts"]["correct"]
    head = f"{c}/{n} correct" if n else (
        f"{row['counts']['deploy'][0]}/{row['counts']['deploy'][1]} plan")
    failure = row["failure"]
    if not failure:
        return head
    return f"{head}; {failure['stage']} {_shortfall(failure)}: {_why(failure)}"


def _shortfall(failure: dict[str, str]) -> str:
    """The status a shortfall reads as. Never "pass": the intent stage passes on the IaC-Eval
    rule while the strict rule (its top `is_*valid*` rule) is not met."""
    return "fail (strict rule)" if failure["status"] == "pass" else failure["status"]


def _samples_per_task(doc: dict[str, Any]) -> int:
    return max((row["counts"]["correct"][1] for row in doc["tasks"]), default=0)


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _why(failure: dict[str, str]) -> str:
    text = failure["summary"] or _shortfall(failure)
    return f"{text} ({failure['detail']})" if failure["detail"] else text


def _html_table(table: Table, flagged: Callable[[list[str]], bool] | None = None) -> str:
    header, rows = table
    if not rows:
        return "<p class='note'>none</p>"
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = []
    for row in rows:
        cls = " class='flagged'" if flagged and flagged(row) else ""
        cells = "".join(f"<td{' class=num' if _numeric(c) else ''}>{html.escape(c)}</td>"
                        for c in row)
        body.append(f"<tr{cls}>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _md_table(table: Table) -> str:
    header, rows = table
    if not rows:
        return "_none_"
    def line(cells: list[str]) -> str:
        return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"
    return "\n".join([line(header), "| " + " | ".join("---" for _ in header) + " |",
                      *(line(r) for r in rows)])


def _short_git(described: str | None) -> str:
    if not described:
        return ""
    return described[:12] + (" (dirty)" if described.endswith("-dirty") else "")


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{100 * value:.1f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _numeric(text: str) -> bool:
    return text.replace(".", "", 1).replace("%", "").replace("-", "", 1).isdigit()


def _generated() -> str:
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    return f"Generated {stamp} by iacforge {__version__}."
