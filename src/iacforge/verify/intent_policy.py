"""IntentPolicy: a Rego policy that states what a candidate's plan must contain.

The policy is read as text; the few facts the verifier needs before evaluating it (its Rego
syntax version, its package, its top rule) come from the text alone, so they are the same
whichever engine evaluates it. Rule heads are found the way `opa fmt` writes them: at the
start of a line, outside comments and strings.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from iacforge.errors import IacforgeError

# Strings and comments, blanked before looking for heads so a `#` or a rule name inside a
# string is not mistaken for code. Line breaks are kept so heads stay at line starts.
_NOISE = re.compile(r'"(?:\\.|[^"\\\n])*"|`[^`]*`|#[^\n]*')
_PACKAGE = re.compile(r"^[ \t]*package[ \t]+(\S+)", re.M)
_REGO_V1 = re.compile(r"^[ \t]*import[ \t]+rego\.v1\b", re.M)
# A rule head: a name at the very start of a line (after an optional `default`), followed by
# what can follow a rule name. Function heads (`name(`) are left out: they are not in `data`.
_HEAD = re.compile(
    r"^(?:default[ \t]+)?([A-Za-z_]\w*)(?=[ \t]*(?:\{|:=|=(?!=)|\[|\.|if\b|contains\b))", re.M
)
_KEYWORDS = frozenset({"package", "import", "default", "else", "some", "every", "not", "with"})
# Candidates for the top rule: `is_` then `valid` as a whole underscore-separated word
# (`is_valid`, `is_valid_bucket`, `is_configuration_valid`; not `is_invalid`).
_TOP_NAME = re.compile(r"^is_(?:\w+_)?valid(?:_\w+)?$")


def _blank(match: re.Match[str]) -> str:
    return "\n" * match.group(0).count("\n")


@dataclass(frozen=True)
class IntentPolicy:
    """A Rego intent policy, as text.

    >>> p = IntentPolicy('package terraform.validation\\nimport rego.v1\\n'
    ...                  'default is_valid := false\\nis_valid if { input.x }\\n')
    >>> p.package, p.v1, p.top_rule
    ('terraform.validation', True, 'is_valid')
    """

    text: str
    name: str = "intent.rego"

    @classmethod
    def from_file(cls, path: str | Path) -> IntentPolicy:
        """Read a policy file; an IacforgeError says what is wrong with the file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise IacforgeError(f"intent policy {path} does not exist") from None
        except UnicodeDecodeError as exc:
            raise IacforgeError(f"intent policy {path} is not UTF-8 text ({exc.reason})") from None
        except OSError as exc:
            raise IacforgeError(f"intent policy {path} cannot be read: {exc.strerror}") from None
        return cls(text, name=path.name)

    @cached_property
    def _code(self) -> str:
        """The text with comments and string literals blanked out."""
        return _NOISE.sub(_blank, self.text)

    @property
    def v1(self) -> bool:
        """True when the policy imports `rego.v1`: IaC-Eval's test for evaluating it as Rego v1.

        Every other policy is evaluated as Rego v0 (OPA before 1.0), as IaC-Eval does.
        """
        return _REGO_V1.search(self._code) is not None

    @property
    def package(self) -> str:
        """The package path as written (`terraform.validation`), or "" when there is none."""
        match = _PACKAGE.search(self._code)
        return match.group(1) if match else ""

    @cached_property
    def rule_names(self) -> tuple[str, ...]:
        """Names of the rules the policy defines at its top level, in order of first head."""
        names = (m.group(1) for m in _HEAD.finditer(self._code))
        return tuple(dict.fromkeys(n for n in names if n not in _KEYWORDS))

    @cached_property
    def top_rule(self) -> str | None:
        """The rule that states the whole intent, or None when the policy has no clear one.

        `is_valid` when defined; otherwise the one rule named `is_…valid…` that no other rule
        refers to (`is_configuration_valid` that ANDs `is_valid_bucket`, `is_valid_policy`).
        None when there is no such rule, or more than one.
        """
        if "is_valid" in self.rule_names:
            return "is_valid"
        bodies = _HEAD.sub("", self._code)  # every name left in here is a reference
        unreferenced = [
            name
            for name in self.rule_names
            if _TOP_NAME.match(name) and not re.search(rf"\b{name}\b", bodies)
        ]
        return unreferenced[0] if len(unreferenced) == 1 else None

    def content_hash(self) -> str:
        """SHA-256 of the policy text."""
        return hashlib.sha256(self.text.encode("utf-8", "surrogatepass")).hexdigest()
