"""The config file layer: found from the working directory up to the repository root, checked
key by key, and resolved command line > IACFORGE_* > file > default."""

from __future__ import annotations

from pathlib import Path

import pytest

from iacforge.config_file import FILE_KEYS, find_file, load_file, resolve
from iacforge.errors import ConfigError

FULL = """stages = ["validate", "plan"]
fail_on = ["security"]
skip_checks = ["CKV_AWS_18"]
intent_rule = "strict"
timeout = 30
workers = 2
"""


def test_every_key_of_a_dot_file_is_read_and_typed(tmp_path: Path) -> None:
    (tmp_path / ".iacforge.toml").write_text(FULL)
    found = resolve({}, cwd=tmp_path, environ={})
    assert {k: e.value for k, e in found.items()} == {
        "stages": ("validate", "plan"), "fail_on": ("security",),
        "skip_checks": ("CKV_AWS_18",), "intent_rule": "strict", "timeout": 30.0, "workers": 2}
    assert {e.source for e in found.values()} == {str(tmp_path / ".iacforge.toml")}
    assert set(found) == set(FILE_KEYS)


def test_command_line_beats_env_beats_file_beats_default(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.iacforge]\ntimeout = 30\nworkers = 2\n"
                                            "fail_on = 'lint'\n")
    env = {"IACFORGE_TIMEOUT": "45", "IACFORGE_WORKERS": "3"}
    found = resolve({"timeout": 60.0}, cwd=tmp_path, environ=env)
    assert (found["timeout"].value, found["timeout"].source) == (60.0, "command line")
    assert (found["workers"].value, found["workers"].source) == (3, "IACFORGE_WORKERS")
    assert (found["fail_on"].value, found["fail_on"].source) == (
        ("lint",), str(tmp_path / "pyproject.toml"))
    assert (found["intent_rule"].value, found["intent_rule"].source) == ("iac_eval", "default")


def test_search_goes_upwards_and_stops_at_the_repository_root(tmp_path: Path) -> None:
    (tmp_path / ".iacforge.toml").write_text("timeout = 5\n")  # above the repository
    repo = tmp_path / "repo"
    deep = repo / "envs" / "prod"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    assert find_file(deep) is None
    # a pyproject.toml without [tool.iacforge] is passed over; one with it is found
    (repo / "envs" / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (repo / "pyproject.toml").write_text("[tool.iacforge]\ntimeout = 7\n")
    assert find_file(deep) == repo / "pyproject.toml"
    # in one directory the dot file wins
    (repo / ".iacforge.toml").write_text("timeout = 9\n")
    assert find_file(deep) == repo / ".iacforge.toml"
    assert resolve({}, cwd=deep, environ={})["timeout"].value == 9.0


@pytest.mark.parametrize(("text", "message"), [
    ("timeot = 3\n", "unknown key 'timeot' (did you mean 'timeout'?"),
    ("timeout = 0\n", "timeout: expected a number of seconds greater than 0"),
    ("timeout = 'soon'\n", "timeout: expected a number of seconds"),
    ("workers = -3\n", "workers: expected a whole number greater than 0"),
    ("workers = 1.5\n", "workers: expected a whole number"),
    ("workers = true\n", "workers: expected a whole number"),
    ("stages = ['validate', 'plna']\n", "stages: unknown stage(s) plna"),
    ("fail_on = ['plan']\n", "fail_on: 'plan' is not an advisory stage"),
    ("skip_checks = [1]\n", "skip_checks: expected a list of strings"),
    ("intent_rule = 'strcit'\n", "intent_rule: expected one of iac_eval, strict"),
    ("timeout = \n", "not valid TOML"),
])
def test_bad_keys_and_values_name_the_file_and_key(tmp_path: Path, text: str,
                                                   message: str) -> None:
    path = tmp_path / ".iacforge.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_file(path)
    assert str(err.value).startswith(f"{path}: ") and message in str(err.value)


def test_pyproject_errors_name_the_table(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool.iacforge]\nskip-checks = ['CKV_AWS_18']\n")
    with pytest.raises(ConfigError, match=r"unknown key \[tool.iacforge\] 'skip-checks' "
                                          r"\(did you mean 'skip_checks'\?"):
        load_file(path)


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"IACFORGE_WORKERS='-3': expected a whole number"):
        resolve({}, cwd=tmp_path, environ={"IACFORGE_WORKERS": "-3"})
