"""`train rft`, `train recipe` and `scripts/gpu_recipe` on the real embedded model and verifier.

A 135M model sampled for a few tokens never writes Terraform that passes, so the tests that
need passing answers sample from a `scripted:` replay file (the `sampler` field): the verdicts
are still the real verifier's (terraform validate), and the SFT on what is kept is the real
model's. One round, one SFT step, tiny lengths.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from iacforge.data.task import Task
from iacforge.train.policy import LoraSettings
from iacforge.train.rft import RFTRun, run_rft

pytestmark = pytest.mark.slow

TINY_LORA = LoraSettings(rank=4, alpha=8, dropout=0.0)
ROOT = Path(__file__).parents[2]


def sqs(name: str, extra: str = "") -> str:
    return f'```hcl main.tf\n{extra}resource "aws_sqs_queue" "q" {{\n  name = "{name}"\n}}\n```'


def bad(n: int) -> str:  # validate fails: an unknown argument (each text its own)
    return f'```hcl main.tf\nresource "aws_sqs_queue" "q" {{\n  bogus_{n} = 1\n}}\n```'


TASKS = [Task(f"q{i}", "generate", f"An SQS queue named q{i}.") for i in range(3)]
#: In the order the harness asks: turn 1 (3 tasks × k=2), then turn 2 for the four failures.
REPLIES = [
    sqs("q0", "# the queue\n"), sqs("q0"),   # q0: both pass, the same reward: the shorter kept
    bad(1), bad(2),                            # q1: both fail ...
    bad(3), bad(4),                            # q2: both fail ...
    sqs("q1"), bad(5),                         # ... q1's first sample is repaired, the second not
    bad(6), bad(7),                            # ... q2's repairs fail too
]


def rft_run(tmp_path: Path, **kw) -> RFTRun:
    replies = tmp_path / "replies.json"
    replies.write_text(json.dumps(REPLIES))
    return RFTRun(tasks="-", out=tmp_path / "out", sampler=f"scripted:{replies}", k=2,
                  turns=2, rounds=1, max_steps=1, max_length=512, batch_size=1,
                  stages=("validate",), lora=TINY_LORA, **kw)


def test_rft_keeps_only_passing_answers_logs_the_round_and_resumes(tmp_path, capsys):
    held_out = tmp_path / "eval.jsonl"
    held_out.write_text(json.dumps(TASKS[0].to_record()) + "\n")
    run = rft_run(tmp_path, eval_tasks=held_out, eval_limit=1)
    [row] = run_rft(run, TASKS)["rounds"]
    assert (row["prompts"], row["samples"], row["repair_attempts"]) == (3, 6, 4)
    assert row["sample_pass_rate"] == pytest.approx(2 / 6)
    assert (row["kept_examples"], row["kept_repairs"], row["prompts_without_pass"]) == (2, 1, 1)
    assert row["sft_steps"] == 1 and row["seconds"] > 0
    # the eval replays the script too: its one task gets the first reply, which compiles
    assert row["eval"]["compile"] == 1.0 and row["eval"]["deploy"] is None
    kept = [json.loads(line) for line in
            (tmp_path / "out" / "round-1" / "kept.jsonl").read_text().splitlines()]
    assert [(e["task_id"], e["turn"]) for e in kept] == [("q0", 1), ("q1", 2)]
    assert kept[0]["completion"][0]["content"] == sqs("q0")  # the shorter of two equals
    assert "bogus" not in kept[1]["completion"][0]["content"]
    repair = kept[1]["prompt"]  # the conversation that led to the passing repair
    assert [m["role"] for m in repair[-2:]] == ["assistant", "user"]
    assert repair[-2]["content"] == bad(1) and "bogus_1" in repair[-1]["content"]
    assert (tmp_path / "out" / "round-1" / "sft" / "adapter_model.safetensors").is_file()
    logged = json.loads((tmp_path / "out" / "rounds.jsonl").read_text())
    assert logged == row
    assert "round 1: 6 samples, pass rate 33.3%, kept 2 (1 repairs)" in capsys.readouterr().out
    # a finished round is read back, not run again: without its replies it could not sample
    (tmp_path / "replies.json").unlink()
    adapter = tmp_path / "out" / "round-1" / "sft" / "adapter_model.safetensors"
    written = adapter.stat().st_mtime_ns
    [again] = run_rft(run, TASKS)["rounds"]
    assert again == row and adapter.stat().st_mtime_ns == written
    assert "(done before)" in capsys.readouterr().out


def test_rft_samples_the_real_policy_and_counts_prompts_without_a_pass(tmp_path):
    """The real path: the embedded model, batched and schema-constrained; 8 tokens never
    pass, so nothing is kept and no SFT runs, but every prompt is counted."""
    run = RFTRun(tasks="-", out=tmp_path, k=2, rounds=1, max_new_tokens=8,
                 stages=("validate",), lora=TINY_LORA)
    [row] = run_rft(run, TASKS[:1])["rounds"]
    assert (row["samples"], row["sample_pass_rate"], row["kept_examples"]) == (2, 0.0, 0)
    assert row["prompts_without_pass"] == 1 and row["sft_steps"] == 0
    assert row["adapter"] is None and (tmp_path / "round-1" / "done.json").is_file()
    replies = (tmp_path / "round-1" / "sample" / "replies.jsonl").read_text().splitlines()
    assert len(replies) == 2


def test_gpu_recipe_cpu_path_leaves_only_the_adapter_and_its_logs(tmp_path):
    tasks = tmp_path / "train.jsonl"
    tasks.write_text("".join(
        json.dumps(Task(f"q{i}", "generate", f"An SQS queue named q{i}.",
                        reference={"main.tf": sqs(f"q{i}")[15:-4]}).to_record()) + "\n"
        for i in range(4)))
    out = tmp_path / "out"
    env = {**os.environ, "PYTHON": sys.executable, "OMP_NUM_THREADS": "1",
           "PYTHONPATH": str(ROOT / "src"), "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run([str(ROOT / "scripts" / "gpu_recipe"), str(tasks), str(out),
                           "--sft-steps", "1", "--max-length", "256", "--batch-size", "1"],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert sorted(p.name for p in out.iterdir()) == ["adapter", "recipe.json", "train.log"]
    assert {p.name for p in (out / "adapter").iterdir()} >= {"adapter_config.json",
                                                            "adapter_model.safetensors"}
    summary = json.loads((out / "adapter" / "train_summary.json").read_text())
    assert summary["steps"] == 1 and summary["run"]["bf16"] is True
    assert summary["run"]["adapter"].endswith("smollm2-135m-terraform")  # warm start
