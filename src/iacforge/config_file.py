"""The project config file, and each verify setting resolved: command line > env > file > default.

The file is `.iacforge.toml` (keys at the top level) or the `[tool.iacforge]` table of a
`pyproject.toml`, the first found from the working directory upwards, stopping at the
repository root (the directory holding `.git`). In one directory `.iacforge.toml` wins; a
`pyproject.toml` without `[tool.iacforge]` is passed over. It sets only how candidates are
judged (`FILE_KEYS`), never which binaries run or how the sandbox and screen behave: a cloned
repository's file must not be able to weaken them.

>>> import tempfile
>>> with tempfile.TemporaryDirectory() as repo:
...     _ = Path(repo, ".iacforge.toml").write_text('fail_on = ["security"]\\ntimeout = 30\\n')
...     found = resolve({"timeout": 60.0}, cwd=Path(repo), environ={})
...     found["fail_on"].value, found["timeout"], found["workers"].source
(('security',), Effective(value=60.0, source='command line'), 'default')
"""

from __future__ import annotations

import difflib
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from iacforge.config import Settings
from iacforge.errors import ConfigError
from iacforge.formal import parse_fail_on
from iacforge.verify.options import INTENT_RULES, VerifierOptions
from iacforge.verify.stages import STAGES

DOT_FILE = ".iacforge.toml"


@dataclass(frozen=True)
class Effective:
    """A setting's value and where it came from: `command line`, `IACFORGE_X`, a file, `default`."""

    value: object
    source: str


def _names(value: object) -> tuple[str, ...]:
    """A list of names, from a TOML array of strings or a comma-separated string."""
    if isinstance(value, str):
        return tuple(n.strip() for n in value.split(",") if n.strip())
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(v.strip() for v in value if v.strip())
    raise ConfigError(f"expected a list of strings, got {value!r}")


def _stages(value: object) -> tuple[str, ...]:
    names = _names(value)
    unknown = [n for n in names if n not in STAGES]
    if unknown or not names:
        raise ConfigError(f"unknown stage(s) {', '.join(unknown) or '(none given)'}; "
                          f"choose from {', '.join(STAGES)}")
    return names


def _intent_rule(value: object) -> str:
    if value not in INTENT_RULES:
        raise ConfigError(f"expected one of {', '.join(INTENT_RULES)}, got {value!r}")
    return str(value)


def _number(kind: type[int] | type[float]) -> Callable[[object], object]:
    """A parser of a positive `kind` from a TOML number or an environment string."""
    def parse(value: object) -> object:
        number = value
        if isinstance(value, str):
            try:
                number = kind(value)
            except ValueError:
                number = None
        ok = (isinstance(number, (int, float)) and not isinstance(number, bool)
              and (kind is float or isinstance(number, int)))
        if not ok or number <= 0:  # type: ignore[operator]
            what = "a whole number" if kind is int else "a number of seconds"
            raise ConfigError(f"expected {what} greater than 0, got {value!r}")
        return kind(number)  # type: ignore[arg-type]
    return parse


def _fail_on(value: object) -> tuple[str, ...]:
    if not isinstance(value, (str, list)):
        raise ConfigError(f"expected a list of stage names, got {value!r}")
    return parse_fail_on(value)  # type: ignore[arg-type]


#: key → parser of a TOML value or an `IACFORGE_<KEY>` string (ConfigError on a bad value).
PARSERS: dict[str, Callable[[object], object]] = {
    "stages": _stages,
    "fail_on": _fail_on,
    "skip_checks": _names,
    "intent_rule": _intent_rule,
    "timeout": _number(float),
    "workers": _number(int),
}
FILE_KEYS: tuple[str, ...] = tuple(PARSERS)


def defaults() -> dict[str, object]:
    """The built-in value of each key (stages None: the default stages, intent with --intent)."""
    settings = Settings()
    return {"stages": None, "fail_on": settings.fail_on,
            "skip_checks": VerifierOptions.skip_checks,
            "intent_rule": VerifierOptions.intent_rule,
            "timeout": settings.timeout, "workers": settings.workers}


def find_file(start: Path) -> Path | None:
    """The config file governing `start`, or None (see the module docstring)."""
    start = Path(os.path.abspath(start))
    for directory in (start, *start.parents):
        if (directory / DOT_FILE).is_file():
            return directory / DOT_FILE
        pyproject = directory / "pyproject.toml"
        if pyproject.is_file() and "iacforge" in _toml(pyproject).get("tool", {}):
            return pyproject
        if (directory / ".git").exists():
            return None
    return None


def load_file(path: Path) -> dict[str, object]:
    """The checked values of a config file; ConfigError naming the file and key otherwise."""
    table = _toml(path)
    where = ""
    if path.name == "pyproject.toml":
        table, where = table.get("tool", {}).get("iacforge", {}), "[tool.iacforge] "
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: {where or 'the file '}must be a table of keys")
    values: dict[str, object] = {}
    for key, raw in table.items():
        if key not in PARSERS:
            close = difflib.get_close_matches(key.replace("-", "_"), FILE_KEYS, n=1)
            hint = f"did you mean {close[0]!r}? " if close else ""
            raise ConfigError(f"{path}: unknown key {where}{key!r} ({hint}known keys: "
                              f"{', '.join(FILE_KEYS)})")
        try:
            values[key] = PARSERS[key](raw)
        except ConfigError as exc:
            raise ConfigError(f"{path}: {where}{key}: {exc}") from None
    return values


def resolve(cli: Mapping[str, object | None], *, cwd: Path | None = None,
            environ: Mapping[str, str] | None = None) -> dict[str, Effective]:
    """Each of FILE_KEYS as given on the command line (not None), else in `IACFORGE_<KEY>`,
    else in the config file found from `cwd`, else its default."""
    environ = os.environ if environ is None else environ
    path = find_file(cwd or Path.cwd())
    in_file = load_file(path) if path else {}
    builtin = defaults()
    found: dict[str, Effective] = {}
    for key, parse in PARSERS.items():
        variable = f"IACFORGE_{key.upper()}"
        if cli.get(key) is not None:
            found[key] = Effective(cli[key], "command line")
        elif environ.get(variable):
            try:
                found[key] = Effective(parse(environ[variable]), variable)
            except ConfigError as exc:
                raise ConfigError(f"{variable}={environ[variable]!r}: {exc}") from None
        elif key in in_file:
            found[key] = Effective(in_file[key], str(path))
        else:
            found[key] = Effective(builtin[key], "default")
    return found


def _toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read it ({exc.strerror or exc})") from None
