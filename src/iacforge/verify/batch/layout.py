"""The generated root module that holds a batch of candidates, one child module each.

```
iacforge_batch.tf          module "iacforge_c0" {...}  module "iacforge_p0" {...}  output proxies
iacforge_c0/main.tf …      candidate 0's normalised files, unchanged
iacforge_p0/provider.tf    a provider block hoisted out of candidates 1 and 2, verbatim
iacforge_p0/members.tf     module "iacforge_c1" { source = "../iacforge_c1" } … and proxies
iacforge_c1/main.tf …      candidate 1's files, with that provider block blanked out
```

Why hoist: terraform starts one provider process per provider configuration, and the AWS
provider costs ~0.6 s of CPU to start, so a batch of candidates that each say
`provider "aws" { region = "us-east-1" }` would pay that once per candidate. A default `aws`
block whose arguments are all constants behaves the same wherever it sits, so identical
blocks become one group module that the candidates inherit it from; the block keeps its text
and column, so its diagnostics map back by a line offset. Blocks with references, aliases,
in `.tf.json`, or a second default block stay in the candidate's own module.

Root module outputs (planned values, output changes, the "Output refers to sensitive values"
check) exist only in a root, so every candidate output gets a proxy output in the root with
the same `sensitive` flag; its values are renamed back when the plan is split.

Root module variables are unknown while terraform validates, where a child's would take
their defaults and could fail validation early; so a validate run passes every candidate
variable an unknown value. A plan run passes nothing, and defaults apply as in a root.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from iacforge.hcl.model import TerraformModel
from iacforge.hcl.parse import parse_files
from iacforge.hcl.scan import Item, blank, body_items, brace_of, top_level_blocks

ROOT_FILE = "iacforge_batch.tf"
PREFIX = "iacforge_"
#: Sentinels: root blocks whose diagnostic proves that terraform's graph walk ran, as
#: configuration errors anywhere stop validate before its walk, and errors in plan's own
#: validation stop it before the planning walk. Validate: a local that fails to evaluate.
#: Plan: a check block, whose failed assertion is a warning of the planning walk only.
_VALIDATE_SENTINEL = "locals {\n  iacforge_walked = {}.walked\n}\n"
_PLAN_SENTINEL = ('locals {\n  iacforge_planned = false\n}\n\ncheck "iacforge_planned" {\n'
                  '  assert {\n    condition     = local.iacforge_planned\n'
                  '    error_message = "planned"\n  }\n}\n')
#: When validating, every candidate variable is passed this root variable, which terraform
#: leaves unknown, as it leaves a root module's own variables (a child would get defaults).
UNKNOWN = "iacforge_unknown"
_UNKNOWN_TEXT = f'variable "{UNKNOWN}" {{}}\n'
#: Names a module call cannot pass (meta-arguments); terraform rejects such variables anyway.
_META_ARGUMENTS = frozenset({"source", "version", "providers", "count", "for_each",
                             "depends_on", "lifecycle", "locals"})


@dataclass(frozen=True)
class Hoist:
    """Where a hoisted provider block sat in its candidate: file, line and UTF-8 byte offset."""

    file: str
    line: int
    byte: int


@dataclass(frozen=True)
class Member:
    """One candidate as the batch holds it."""

    index: int
    #: The normalised files, with the hoisted provider block (if any) blanked out.
    files: dict[str, str]
    #: Output name → its literal `sensitive` flag.
    outputs: dict[str, bool]
    #: Names of the candidate's variables.
    variables: tuple[str, ...] = ()
    #: (block text, column) of the hoisted provider block, and where it was.
    group_key: tuple[str, int] | None = None
    hoist: Hoist | None = None

    @property
    def dir(self) -> str:
        return f"{PREFIX}c{self.index}"


@dataclass
class Layout:
    """The members of one batch, their groups, and what each generated line belongs to."""

    members: dict[int, Member]
    groups: dict[tuple[str, int], int] = field(default_factory=dict)
    #: Generated file → [(first line, last line, member index)] for module calls and proxies.
    lines: dict[str, list[tuple[int, int, int]]] = field(default_factory=dict)
    #: First and last line of the sentinel block in the root file.
    sentinel: tuple[int, int] = (1, 0)

    def __post_init__(self) -> None:
        for member in self.members.values():
            if member.group_key is not None:
                self.groups.setdefault(member.group_key, len(self.groups))

    def group_of(self, index: int) -> int | None:
        key = self.members[index].group_key
        return None if key is None else self.groups[key]

    def module_path(self, index: int) -> str:
        """`module.iacforge_c3`, or `module.iacforge_p0.module.iacforge_c3` inside a group."""
        group = self.group_of(index)
        own = f"module.{PREFIX}c{index}"
        return own if group is None else f"module.{PREFIX}p{group}.{own}"

    def group_members(self, group: int, active: set[int]) -> list[int]:
        return [i for i in sorted(active) if self.group_of(i) == group]

    def write_children(self, workdir: Path) -> None:
        """Write every member's files into its own directory (once per batch)."""
        for member in self.members.values():
            for name, text in member.files.items():
                target = workdir / member.dir / name
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8", errors="surrogatepass")
        for key, group in self.groups.items():
            text, column = key
            path = workdir / f"{PREFIX}p{group}" / "provider.tf"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(" " * (column - 1) + text + "\n", encoding="utf-8",
                            errors="surrogatepass")

    def write_root(self, workdir: Path, active: set[int], *, validating: bool) -> None:
        """(Re)write the root and group modules so they call exactly the `active` members.

        `validating` passes candidate variables an unknown value; each run gets its sentinel.
        """
        self.lines = {}
        root = _Text(ROOT_FILE, self.lines, validating)
        groups: dict[int, _Text] = {}
        manifest = [{"Key": "", "Source": "", "Dir": "."}]
        for index in sorted(active):
            member, group = self.members[index], self.group_of(index)
            variables = member.variables if validating else ()
            if group is None:
                root.module(index, member.dir, f"./{member.dir}", variables)
                manifest.append({"Key": member.dir, "Source": f"./{member.dir}",
                                 "Dir": member.dir})
                for name, sensitive in member.outputs.items():
                    root.proxy(index, name, f"module.{member.dir}.{name}", sensitive)
                continue
            gdir = f"{PREFIX}p{group}"
            if group not in groups:
                groups[group] = _Text(f"{gdir}/members.tf", self.lines, validating)
                root.module(None, gdir, f"./{gdir}", (UNKNOWN,) if validating else ())
                manifest.append({"Key": gdir, "Source": f"./{gdir}", "Dir": gdir})
            groups[group].module(index, member.dir, f"../{member.dir}", variables)
            manifest.append({"Key": f"{gdir}.{member.dir}", "Source": f"../{member.dir}",
                             "Dir": member.dir})
            for name, sensitive in member.outputs.items():
                proxy = f"{member.dir}__{name}"
                groups[group].proxy(index, proxy, f"module.{member.dir}.{name}", sensitive)
                root.proxy(index, name, f"module.{gdir}.{proxy}", sensitive)
        self.sentinel = root.sentinel(_VALIDATE_SENTINEL if validating else _PLAN_SENTINEL)
        for gen in (root, *groups.values()):
            (workdir / gen.name).write_text(gen.text())
        for group in set(self.groups.values()) - set(groups):
            (workdir / f"{PREFIX}p{group}" / "members.tf").unlink(missing_ok=True)
        manifest_path = workdir / ".terraform/modules/modules.json"
        manifest_path.parent.mkdir(parents=True, exist_ok=True)
        manifest_path.write_text(json.dumps({"Modules": manifest}))

    def member_at(self, file: str, line: int | None) -> int | None:
        """The member a line of a generated file was written for."""
        for first, last, index in self.lines.get(file, ()):
            if line is not None and first <= line <= last:
                return index
        return None


class _Text:
    """A generated .tf file, recording which lines belong to which member."""

    def __init__(self, name: str, lines: dict[str, list[tuple[int, int, int]]],
                 unknown: bool) -> None:
        self.name = name
        self._parts: list[str] = []
        self._line = 1
        self._spans = lines.setdefault(name, [])
        if unknown:
            self._add(None, _UNKNOWN_TEXT)

    def _add(self, index: int | None, text: str) -> int:
        first = self._line
        self._parts.append(text)
        self._line += text.count("\n")
        if index is not None:
            self._spans.append((first, self._line - 1, index))
        return first

    def module(self, index: int | None, name: str, source: str,
               variables: tuple[str, ...]) -> None:
        passed = "".join(f"  {v} = var.{UNKNOWN}\n" for v in variables
                         if v not in _META_ARGUMENTS)
        self._add(index, f'module "{name}" {{\n  source = "{source}"\n{passed}}}\n')

    def proxy(self, index: int, name: str, value: str, sensitive: bool) -> None:
        proxy = f"{PREFIX}c{index}__{name}" if self.name == ROOT_FILE else name
        self._add(index, f'output "{proxy}" {{\n  value     = {value}\n'
                         f"  sensitive = {str(sensitive).lower()}\n}}\n")

    def sentinel(self, text: str) -> tuple[int, int]:
        first = self._add(None, text)
        return first, self._line - 1

    def text(self) -> str:
        return "".join(self._parts)


def root_output_name(index: int, name: str) -> str:
    """The root proxy output that stands for member `index`'s output `name`."""
    return f"{PREFIX}c{index}__{name}"


def make_member(index: int, files: dict[str, str], model: TerraformModel) -> Member:
    """A member from normalised files and the candidate's model, hoisting what can be hoisted."""
    outputs = {b.labels[0]: literal_flag(b.attr("sensitive")) is True
               for b in model.of_kind("output") if b.labels}
    variables = tuple(b.labels[0] for b in model.of_kind("variable") if b.labels)
    found = _hoistable(files, model)
    if found is None:
        return Member(index, dict(files), outputs, variables)
    name, item = found
    text = files[name]
    line_start = text.rfind("\n", 0, item.start) + 1
    column = item.start - line_start + 1
    hoist = Hoist(name, text.count("\n", 0, item.start) + 1,
                  len(text[:item.start].encode("utf-8", "surrogatepass")))
    blanked = {**files, name: blank(text, item.start, item.end)}
    return Member(index, blanked, outputs, variables, (text[item.start:item.end], column), hoist)


def _hoistable(files: dict[str, str], model: TerraformModel) -> tuple[str, Item] | None:
    """The one default `aws` provider block that can move to a group module, if there is one."""
    blocks = [b for b in model.of_kind("provider") if b.labels[:1] == ("aws",)]
    if sum("alias" not in b.body for b in blocks) != 1:
        return None
    defaults: list[tuple[str, Item]] = []
    for name, text in files.items():
        if not name.endswith(".tf"):
            continue
        for item in top_level_blocks(text):
            if item.kind == "block" and item.name == "provider" and item.labels[:1] == ("aws",):
                names = {i.name for i in body_items(text, brace_of(text, item))}
                if "alias" not in names:
                    defaults.append((name, item))
    if len(defaults) != 1:
        return None
    name, item = defaults[0]
    text = files[name]
    line_start = text.rfind("\n", 0, item.start) + 1
    if text[line_start:item.start].strip() or text[item.end:].split("\n", 1)[0].strip():
        return None  # something else shares its first or last line
    parsed = parse_files({"provider.tf": text[item.start:item.end]}).model
    if parsed is None or len(parsed.blocks) != 1 or not _constant(parsed.blocks[0].body):
        return None
    return name, item


def _constant(value: object) -> bool:
    """True when a parsed value holds no expression (`${…}` is how the parser shows one)."""
    if isinstance(value, str):
        return "${" not in value
    if isinstance(value, dict):
        return all(_constant(v) for v in value.values())
    if isinstance(value, list):
        return all(_constant(v) for v in value)
    return True


def literal_flag(value: object) -> bool | None:
    """A literal boolean attribute value, or None (absent, or an expression).

    `value` as `Block.attr` gives it.
    """
    return value if isinstance(value, bool) else None


def files_key(files: dict[str, bytes]) -> str:
    """SHA-256 over relative file paths and their bytes, as a workspace holds them."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode("utf-8", "surrogatepass") + b"\0" + files[name] + b"\0")
    return h.hexdigest()
