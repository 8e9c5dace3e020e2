"""README.md's Python snippets run as pasted (from the repository root), and the package ships
what a user's tools look for: `py.typed`, and a LICENSE that matches pyproject.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
#: A ```python block, and the line before it (which may hold the skip marker).
BLOCK = re.compile(r"(?P<before>[^\n]*)\n```python\n(?P<code>.*?)\n```", re.DOTALL)
SKIP = "<!-- readme-test: skip"


def blocks() -> list[tuple[int, str, bool]]:
    text = (ROOT / "README.md").read_text()
    return [(text[:m.start("code")].count("\n") + 1, m["code"], m["before"].startswith(SKIP))
            for m in BLOCK.finditer(text)]


def test_the_readme_has_snippets_and_says_why_it_skips_any():
    found = blocks()
    assert len([b for b in found if not b[2]]) >= 4
    text = (ROOT / "README.md").read_text()
    assert all(re.search(r"<!-- readme-test: skip \(.+\) -->", line)
               for line in text.splitlines() if line.startswith(SKIP))


@pytest.mark.slow
@pytest.mark.parametrize(("line", "code"), [(n, c) for n, c, skip in blocks() if not skip],
                         ids=lambda v: f"README.md:{v}" if isinstance(v, int) else "")
def test_a_readme_snippet_runs_as_pasted(line, code, monkeypatch, capsys):
    monkeypatch.chdir(ROOT)
    exec(compile(code, f"README.md:{line}", "exec"), {"__name__": "__readme__"})
    assert capsys.readouterr().out.strip()  # every snippet shows its result


def test_the_package_is_typed_and_ships_the_marker():
    assert (ROOT / "src/iacforge/py.typed").is_file()
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "py.typed" in data["tool"]["setuptools"]["package-data"]["iacforge"]


def test_the_license_file_is_the_license_pyproject_names():
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert data["project"]["license"] == "Apache-2.0"  # an SPDX expression (PEP 639)
    assert data["project"]["license-files"] == ["LICENSE"]
    head = " ".join((ROOT / "LICENSE").read_text().split()[:5])
    assert head == "Apache License Version 2.0, January"
