"""`iacforge train` argument handling: bad settings fail before any model is loaded."""

from __future__ import annotations

from pathlib import Path

import pytest

from iacforge.cli import build_parser, main
from iacforge.commands.train import _config
from iacforge.train.grpo import GRPORun
from iacforge.train.multiturn import MultiTurnRun
from iacforge.train.recipe import Recipe
from iacforge.train.rft import RFTRun
from iacforge.train.sft import SFTRun


@pytest.mark.parametrize(("argv", "message"), [
    (["grpo", "--group", "1"], "group must be at least 2"),
    (["grpo", "--micro-batch", "3"], "micro_batch (3) must divide group × prompts_per_step (8)"),
    (["multiturn", "--gamma", "1.5"], "argument --gamma: must be a number above 0 and at most 1"),
    (["sft", "--max-length", "8"], "max_length must be at least 16"),
    (["rft", "--rounds", "0"], "argument --rounds: must be a whole number of at least 1"),
    (["recipe", "--sft-steps", "-2"], "argument --sft-steps: must be at least 1 step"),
])
def test_bad_settings_are_usage_errors(argv, message, tmp_path, capsys):
    try:
        code = main(["train", argv[0], "--tasks", str(tmp_path / "t.jsonl"), "--out",
                     str(tmp_path / "out"), *argv[1:]])
    except SystemExit as stopped:  # argparse's own range checks
        code = stopped.code
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_estimators_and_credit_rules_are_choices(capsys):
    with pytest.raises(SystemExit):
        main(["train", "multiturn", "--tasks", "t", "--out", "o", "--estimator", "ppo"])
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize(("method", "run"), [("sft", SFTRun), ("grpo", GRPORun),
                                             ("multiturn", MultiTurnRun), ("rft", RFTRun),
                                             ("recipe", Recipe)])
def test_the_cli_defaults_are_the_run_dataclass_defaults(method, run):
    """`iacforge train M` and `run_M(MRun(...))` train the same way (save and step counts)."""
    args = build_parser().parse_args(["train", method, "--tasks", "t", "--out", "o"])
    assert _config(args) == run(tasks=Path("t"), out=Path("o"))


def test_flags_reach_the_run_fields_they_name():
    args = build_parser().parse_args(["train", "grpo", "--tasks", "t", "--out", "o",
                                      "--max-new-tokens", "99", "--vllm", "--lr", "0.5",
                                      "--stages", "validate", "--lora-rank", "0"])
    config = _config(args)
    assert (config.max_completion_length, config.use_vllm, config.learning_rate,
            config.stages, config.lora.rank) == (99, True, 0.5, ("validate",), 0)
