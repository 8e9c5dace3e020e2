"""`iacforge train` argument handling: bad settings fail before any model is loaded."""

from __future__ import annotations

import pytest

from iacforge.cli import main


@pytest.mark.parametrize(("argv", "message"), [
    (["grpo", "--group", "1"], "group must be at least 2"),
    (["grpo", "--micro-batch", "3"], "micro_batch (3) must divide group × prompts_per_step (8)"),
    (["multiturn", "--gamma", "1.5"], "gamma must be in (0, 1]"),
    (["sft", "--max-length", "8"], "max_length must be at least 16"),
])
def test_bad_settings_are_usage_errors(argv, message, tmp_path, capsys):
    code = main(["train", argv[0], "--tasks", str(tmp_path / "t.jsonl"), "--out",
                 str(tmp_path / "out"), *argv[1:]])
    assert code == 2 and message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_the_estimators_and_credit_rules_are_choices(capsys):
    with pytest.raises(SystemExit):
        main(["train", "multiturn", "--tasks", "t", "--out", "o", "--estimator", "ppo"])
    assert "invalid choice" in capsys.readouterr().err
