"""Usage errors and help across every command: one line, exit 2, never a traceback."""

from __future__ import annotations

import argparse
import shlex

import pytest

from iacforge import cli
from iacforge.commands import COMMANDS

BAD_NUMBERS = [
    ("serve", "--port", "99999"),
    ("serve", "--port", "-1"),
    ("serve", "--workers", "-3"),
    ("serve", "--timeout", "0"),
    ("serve", "--queue", "0"),
    ("verify", "--timeout", "0"),
    ("verify", "--timeout", "nan"),
    ("verify", "--workers", "-3"),
    ("verify", "--workers", "two"),
    ("generate", "--samples", "-2"),
    ("generate", "--turns", "0"),
    ("generate", "--top-p", "1.5"),
    ("generate", "--temperature", "-0.1"),
    ("eval", "--samples", "-1"),
    ("eval", "--k", "0,1"),
    ("eval", "--chunk", "0"),
    ("data synth", "--count", "-5"),
    ("data split", "--test-fraction", "1"),
    ("data dedup", "--threshold", "1.5"),
    ("train sft", "--max-steps", "0"),
    ("train grpo", "--group", "0"),
    ("train multiturn", "--gamma", "2"),
]
#: What each command needs besides the bad option, so only the number is wrong.
REQUIRED = {
    "serve": [], "verify": ["main.tf"], "generate": ["a request"], "eval": ["--tasks", "t.csv"],
    "data synth": ["--out", "o"], "data split": ["t.jsonl", "--out", "o"],
    "data dedup": ["t.jsonl", "--out", "o.jsonl"],
    "train sft": ["--tasks", "t", "--out", "o"], "train grpo": ["--tasks", "t", "--out", "o"],
    "train multiturn": ["--tasks", "t", "--out", "o"],
}


@pytest.mark.timeout(60)  # a value let through would start the command (a server runs on)
@pytest.mark.parametrize(("command", "option", "value"), BAD_NUMBERS,
                         ids=[f"{c}{o}={v}" for c, o, v in BAD_NUMBERS])
def test_an_out_of_range_number_is_a_one_line_usage_error(command, option, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([*command.split(), *REQUIRED[command], f"{option}={value}"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"argument {option}: must be" in err and repr(value) in err


def test_numbers_in_range_are_accepted():
    args = cli.build_parser().parse_args(
        ["serve", "--port", "0", "--workers", "1", "--timeout", "0.5"])
    assert (args.port, args.workers, args.timeout) == (0, 1, 0.5)
    args = cli.build_parser().parse_args(["train", "sft", "--tasks", "t", "--out", "o",
                                          "--max-steps", "-1"])
    assert args.max_steps == -1


def test_a_missing_input_path_is_one_line_and_exit_2(tmp_path, capsys):
    assert cli.main(["verify", str(tmp_path / "absent.tf")]) == 2
    assert cli.main(["verify", "--intent", str(tmp_path / "absent.rego"),
                     str(tmp_path)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert len(errors) == 2 and all(str(tmp_path) in line for line in errors)


def test_an_internal_error_is_one_line_exit_70_and_a_traceback_only_when_asked(
        monkeypatch, capsys):
    def crash(args):
        raise RuntimeError("something broke\nsecond line")

    monkeypatch.setattr(COMMANDS["report"], "run", crash)
    monkeypatch.delenv("IACFORGE_DEBUG", raising=False)
    assert cli.main(["report", "runs/x"]) == cli.EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()] and "Traceback" not in err
    assert "RuntimeError: something broke" in err
    monkeypatch.setenv("IACFORGE_DEBUG", "1")
    assert cli.main(["report", "runs/x"]) == cli.EXIT_INTERNAL
    assert "Traceback" in capsys.readouterr().err


def _subcommand_parsers():
    def walk(prefix, parser):
        yield prefix, parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    yield from walk([*prefix, name], child)

    return list(walk([], cli.build_parser()))[1:]


@pytest.mark.parametrize(("words", "parser"), _subcommand_parsers(),
                         ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_every_help_shows_defaults_an_example_and_the_exit_codes(words, parser):
    text = parser.format_help()
    example = text.split("example:\n  iacforge ", 1)[1].split("\n", 1)[0]
    # the example is of this very command (`data synth` shows a synth, not a split), and runs
    # as far as argparse goes
    assert example.split()[:len(words)] == words, (words, example)
    cli.build_parser().parse_args(shlex.split(example))
    assert "exit codes:" in text and "  2   usage error" in text
    formatter = parser._get_formatter()
    for action in parser._actions:
        default = action.default
        if (action.option_strings and action.help and default != argparse.SUPPRESS
                and isinstance(default, int | float | str) and not isinstance(default, bool)):
            assert "default" in formatter._expand_help(action), (words, action.dest)

def test_serve_help_shows_its_defaults():
    text = " ".join(dict(_subcommand_parsers_by_name())["serve"].format_help().split())
    assert "(default: 8787)" in text and "(default: 64)" in text and "(default: 600.0)" in text


def _subcommand_parsers_by_name():
    return [(" ".join(w), p) for w, p in _subcommand_parsers()]


def test_quiet_and_verbose_exist_on_the_commands_that_print_progress():
    parser = cli.build_parser()
    for command in ("verify", "generate", "mutate", "eval"):
        required = {"verify": ["x"], "generate": ["r"], "mutate": ["d", "r"],
                    "eval": ["--tasks", "t"]}[command]
        assert parser.parse_args([command, *required, "-q"]).quiet
        assert parser.parse_args([command, *required, "--verbose"]).verbose
    with pytest.raises(SystemExit):
        parser.parse_args(["verify", "x", "-q", "-v"])
