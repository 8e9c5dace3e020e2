"""Reports over hand-made runs: tables, embedded plots, item analysis; rendered in Chromium."""

from __future__ import annotations

import base64
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from iacforge.data import Task
from iacforge.eval.harness import EvalConfig, open_run
from iacforge.eval.report import load_runs, write_report

from .conftest import make_record

CHROMIUM = Path("/usr/bin/chromium")
TASKS = [Task("s3", "generate", "A bucket.", difficulty="1",
              resources=("aws_s3_bucket", "aws_s3_bucket_versioning")),
         Task("vpc", "generate", "A network.", difficulty="2", resources=("aws_vpc",)),
         Task("iam", "generate", "A role.", difficulty="3", resources=("aws_iam_role",))]
#: Correct samples out of 5 per task, for three runs of rising strength.
RUNS = {"weak": {"s3": 4, "vpc": 1, "iam": 0}, "mid": {"s3": 5, "vpc": 3, "iam": 0},
        "strong": {"s3": 5, "vpc": 5, "iam": 1}}
PLOTS = 5  # stages, compliance, difficulty, pass@k, family (no repair-turn plot: one turn)
DATA_IMG = re.compile(r"<img[^>]*src=['\"]data:image/png;base64,([A-Za-z0-9+/=]+)['\"]")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    config = EvalConfig(samples=5, ks=(1, 5))
    for name, correct in RUNS.items():
        run = open_run(root / name, TASKS, config, f"model-{name}")
        run.append("samples", [make_record(t.id, i, "correct" if i < correct[t.id] else "no_plan")
                               for t in TASKS for i in range(5)])
    out = root / "report"
    page, summary = write_report(load_runs([root / n for n in RUNS]), out)
    return page, summary


def test_the_page_is_self_contained_with_every_plot_embedded(report):
    page, _ = report
    text = page.read_text()
    images = DATA_IMG.findall(text)
    assert len(images) == PLOTS
    assert all(base64.b64decode(data).startswith(b"\x89PNG\r\n\x1a\n") for data in images)
    assert "http://" not in text and "https://" not in text and "<script" not in text


def test_the_page_shows_the_runs_side_by_side(report):
    text = report[0].read_text()
    for name in RUNS:
        assert f"<th>{name}</th>" in text
    # weak: s3 4/5, vpc 1/5, iam 0/5 → 5/15 samples correct
    assert "<td>FV-iii correctness, IaC-Eval rule</td><td class=num>33.3%</td>" in text
    assert "<td>pass@5, IaC-Eval</td>" in text
    assert "Item analysis (2PL IRT)" in text


def test_the_markdown_summary_has_metrics_failures_and_flags(report):
    text = report[1].read_text()
    assert "| Metric | weak | mid | strong |" in text
    assert "| FV-ii deployability (plan) | 33.3% | 53.3% | 73.3% |" in text
    assert "| weak | iam | plan | fail | main.tf:3: plan failed here (line one) |" in text
    assert re.search(r"\d+ of 3 tasks tell the runs apart poorly", text)
    abilities = text.split("## Item analysis")[1]
    assert abilities.index("| strong |") < abilities.index("| mid |") < abilities.index("| weak |")


def test_each_task_shows_its_prompt_and_resources_beside_its_id(report):
    text = report[0].read_text()
    assert ("<td>s3</td><td>A bucket.</td><td>aws_s3_bucket, aws_s3_bucket_versioning</td>"
            in text)


def test_a_shortfall_never_reads_pass(tmp_path):
    """The IaC-Eval rule passes the intent stage while the strict rule is not met."""
    run = open_run(tmp_path / "lenient", TASKS[:1], EvalConfig(), "m")
    run.append("samples", [make_record("s3", 0, "lenient")])
    page, summary = write_report(load_runs([tmp_path / "lenient"]), tmp_path / "out")
    [row] = [line for line in summary.read_text().splitlines() if "| intent (strict) |" in line]
    assert row.split(" | ")[3] == "fail (strict rule)"
    assert "intent (strict) fail (strict rule): intent rule is_valid" in page.read_text()


def test_one_sample_per_task_draws_no_pass_at_k_and_compliance_apart(tmp_path):
    run = open_run(tmp_path / "n1", TASKS, EvalConfig(samples=1, ks=(1,)), "m")
    run.append("samples", [make_record(t.id, 0, "correct", compliance=0.5) for t in TASKS])
    text = write_report(load_runs([tmp_path / "n1"]), tmp_path / "out")[0].read_text()
    captions = re.findall(r"<figcaption>([^<]*)</figcaption>", text)
    assert not [c for c in captions if "pass@k" in c]
    assert "Mean security compliance (a share of checks, not of samples)" in captions
    assert len(DATA_IMG.findall(text)) == PLOTS - 1


def test_the_stage_chart_plots_pass_rates_only_with_labels_that_fit():
    from iacforge.eval.plots import SHOWN

    assert "compliance" not in dict(SHOWN)  # a mean share of checks has its own chart
    assert all(max(len(part) for part in label.split("\n")) <= 14 for _, label in SHOWN)


def test_one_run_has_no_item_analysis(tmp_path):
    run = open_run(tmp_path / "only", TASKS[:1], EvalConfig(), "m")
    run.append("samples", [make_record("s3", 0, "correct")])
    page, summary = write_report(load_runs([tmp_path / "only"]), tmp_path / "out")
    assert "Item analysis" not in page.read_text() + summary.read_text()


@pytest.mark.slow
@pytest.mark.skipif(not CHROMIUM.exists(),
                    reason="needs headless Chromium at /usr/bin/chromium (Debian: chromium)")
def test_the_page_renders_in_headless_chromium_with_every_plot_decoded(report, tmp_path):
    page, _ = report
    probe = tmp_path / "probe.html"
    # the same page, plus a probe that writes each image's decoded width into the DOM
    probe.write_text(page.read_text().replace("</body>", (
        "<script>window.addEventListener('load', () => document.body.setAttribute("
        "'data-widths', [...document.images].map(i => i.naturalWidth).join(',')));"
        "</script></body>")))
    dom = _chromium("--dump-dom", "--virtual-time-budget=5000", probe.as_uri(), tmp_path)
    assert len(DATA_IMG.findall(dom)) == PLOTS
    widths = re.search(r'data-widths="([\d,]+)"', dom)
    assert widths, dom[:500]
    assert len(widths.group(1).split(",")) == PLOTS
    assert all(int(w) > 100 for w in widths.group(1).split(","))
    shot = tmp_path / "report.png"
    _chromium(f"--screenshot={shot}", "--window-size=1280,2400", page.as_uri(), tmp_path)
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 20_000


def _chromium(flag: str, *args) -> str:
    *rest, home = args
    command = [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu",
               "--disable-dev-shm-usage", f"--user-data-dir={home / 'profile'}", flag, *rest]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120,
                          env={"HOME": str(home), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-2000:]
    shutil.rmtree(home / "profile", ignore_errors=True)
    return done.stdout
