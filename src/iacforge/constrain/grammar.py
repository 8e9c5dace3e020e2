"""The grammar of a reply: fenced HCL files, with or without the provider schema (llguidance Lark).

`syntax` is HCL alone (`hcl.lark`). `schema` replaces its top level with the blocks a root module
may hold, and the body of every `resource` and `data` block with the arguments and nested blocks
its type's schema has: invented types, unknown arguments, a block where an argument belongs and
`required_providers` outside `terraform {}` cannot be written; required arguments (up to
`MAX_REQUIRED` of them per block) must appear before the block closes; literal values take the
shape of the attribute's type (no list where a string belongs, no `true` for a number).

>>> text = syntax_grammar()
>>> "start: file+" in text
True
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable
from importlib.resources import files
from typing import Any, Literal

Mode = Literal["schema", "syntax", "none"]
MODES: tuple[Mode, ...] = ("schema", "syntax", "none")
#: Required items tracked per block; a block with more has them all optional (2^n rules each).
MAX_REQUIRED = 3
#: Heredoc markers the grammar knows (a regular grammar cannot match a marker back).
HEREDOC_MARKERS = ("EOF", "EOT", "POLICY", "EOP", "JSON", "DOC", "END", "EOL", "CONFIG",
                   "USERDATA", "SCRIPT", "TEMPLATE", "TEXT", "YAML", "DATA", "EOS", "EOH")

#: A resource's or data source's meta-arguments: its provider is `aws` (the schema's one
#: provider) or one of its aliases; `depends_on` is a list of whole objects; `{lifecycle}` is
#: the type's `lifecycle` block rule.
_META = ('"count" "=" v_number | "for_each" "=" expr | "depends_on" "=" objects'
         ' | "provider" "=" "aws" ("." IDENT)? | {lifecycle}')


@functools.cache
def syntax_grammar() -> str:
    """`syntax` mode: any HCL in the reply form."""
    return _core() + _heredoc_terminal()


def schema_grammar(schema: dict[str, Any], types: Iterable[str] | None = None) -> str:
    """`schema` mode for a provider schema (`data.schema.provider_schema()`).

    Args:
        types: the resource and data source types allowed; None allows every one.
    """
    wanted = None if types is None else set(types)
    builder = _Builder()
    lines = [_core().replace("body: (generic_attr | generic_block)*\n", ""),
             _core("schema.lark"), _heredoc_terminal()]
    provider = builder.body(schema["provider"]["block"], required=False)
    lines.append(f"provider_item: {provider}_item")
    for keyword, kind in (("resource", "resource_schemas"), ("data", "data_source_schemas")):
        alternatives = []
        for type_, entry in sorted(schema[kind].items()):
            if wanted is not None and type_ not in wanted:
                continue
            block = _settable(keyword, entry["block"])
            lifecycle = builder.lifecycle(type_, block) if keyword == "resource" else "lifecycle"
            body = builder.body(block, meta=_META.format(lifecycle=lifecycle))
            rule = f"{keyword[0]}_{type_}"
            builder.rules[rule] = f'{json.dumps(json.dumps(type_))} LABEL "{{" {body} "}}"'
            alternatives.append(rule)
        # an empty alternation is no grammar: a request that needs no type of this kind
        choice = " | ".join(alternatives) or '"\\"none\\"" LABEL "{" "}"'
        lines.append(f'{keyword}: "{keyword}" ({choice})')
    lines += [f"{name}: {rhs}" for name, rhs in builder.rules.items()]
    return "\n".join(lines) + "\n"


def grammar_for(mode: Mode, prompt: str = "") -> str | None:
    """The grammar of a mode for a prompt's text (None for `none`); `schema` admits the types
    `types.likely_types` finds in the prompt, from the mirrored provider's schema."""
    if mode == "none":
        return None
    if mode == "syntax":
        return syntax_grammar()
    from iacforge.constrain.types import likely_types
    from iacforge.data.schema import provider_schema

    schema = provider_schema()
    return _cached_schema_grammar(tuple(sorted(likely_types(prompt, schema))))


def prompt_grammar(prompt: list[dict[str, str]], mode: Mode) -> str | None:
    """The grammar of a reply to a chat prompt (its user and assistant turns pick the types)."""
    return grammar_for(mode, "\n".join(m["content"] for m in prompt if m["role"] != "system"))


def _settable(keyword: str, block: dict[str, Any]) -> dict[str, Any]:
    """A resource's block without `id`: the schema lists it as optional on the 1,252 SDKv2
    resources, whose validation refuses it ("Invalid or unknown key"); terraform sets it. A
    data source keeps it (`data "aws_vpc"` looks a VPC up by `id`)."""
    attributes = block.get("attributes", {})
    if keyword != "resource" or "id" not in attributes:
        return block
    return {**block, "attributes": {k: v for k, v in attributes.items() if k != "id"}}


@functools.lru_cache(maxsize=32)
def _cached_schema_grammar(types: tuple[str, ...]) -> str:
    from iacforge.data.schema import provider_schema

    return schema_grammar(provider_schema(), types)


class _Builder:
    """Names a rule for every distinct block schema and value type (shared between types)."""

    def __init__(self) -> None:
        self.rules: dict[str, str] = {}
        self._seen: dict[str, str] = {}

    def _name(self, prefix: str, key: str) -> tuple[str, bool]:
        if key in self._seen:
            return self._seen[key], False
        name = f"{prefix}{len(self._seen)}"
        self._seen[key] = name
        return name, True

    def body(self, block: dict[str, Any], *, meta: str = "", required: bool = True) -> str:
        """The rule for a block's body: its items, required ones first-come in any order."""
        name, new = self._name("b", json.dumps([block, meta, required], sort_keys=True))
        if not new:
            return name
        must: list[str] = []
        optional: list[str] = [meta] if meta else []
        for attr, spec in sorted(block.get("attributes", {}).items()):
            if not (spec.get("required") or spec.get("optional")):
                continue  # computed only: cannot be set
            items = self._attribute(attr, spec)
            (must if spec.get("required") and required else optional).append(items)
        for child, spec in sorted(block.get("block_types", {}).items()):
            items = self._block(child, spec)
            (must if spec.get("min_items", 0) >= 1 and required else optional).append(items)
        if len(must) > MAX_REQUIRED:
            optional, must = optional + must, []
        if optional:
            self.rules[f"{name}_item"] = " | ".join(optional)
        self._subsets(name, must, bool(optional))
        return name

    def lifecycle(self, type_: str, block: dict[str, Any]) -> str:
        """The rule of a resource type's `lifecycle` block: `ignore_changes` names only the
        type's attributes and nested blocks (and what lies in them)."""
        names = sorted({*block.get("attributes", {}), *block.get("block_types", {})})
        name, new = self._name("l", json.dumps(names))
        if new:
            self.rules[f"{name}_entry"] = (f'({" | ".join(json.dumps(n) for n in names)})'
                                           ' ("." IDENT | "[" expr "]")*')
            entries = f'"[" ({name}_entry ("," {name}_entry)* ","?)? "]"'
            self.rules[name] = (f'"lifecycle" "{{" (lifecycle_item | "ignore_changes" "=" '
                                f'({entries} | "all"))* "}}"')
        return name

    def _subsets(self, name: str, must: list[str], optional: bool) -> None:
        """`name`: optional items in any order, each required one exactly once."""
        item = f"{name}_item*" if optional else ""

        def rule(remaining: tuple[int, ...]) -> str:
            if not remaining:
                return item or '""'
            options = [f"({must[i]}) {sub(tuple(j for j in remaining if j != i))}"
                       for i in remaining]
            return f"{item} ({' | '.join(options)})"

        def sub(remaining: tuple[int, ...]) -> str:
            label = name + "".join(f"_{i}" for i in remaining) if remaining else f"{name}_done"
            if label not in self.rules:
                self.rules[label] = rule(remaining)
            return label

        self.rules[name] = rule(tuple(range(len(must))))

    def _attribute(self, attr: str, spec: dict[str, Any]) -> str:
        kind = spec.get("type")
        written = f'{json.dumps(attr)} "=" {self.value(kind)}'
        fields = _object_fields(kind)
        if fields is None:
            return written
        # a list or set of objects may also be written as repeated blocks
        name, new = self._name("o", json.dumps(fields, sort_keys=True))
        if new:
            self.rules[name] = " | ".join(
                f'{json.dumps(f)} "=" {self.value(t)}' for f, t in sorted(fields.items()))
        return f'{written} | {json.dumps(attr)} "{{" {name}* "}}"'

    def _block(self, child: str, spec: dict[str, Any]) -> str:
        body = self.body(spec["block"])
        label = " LABEL" if spec.get("nesting_mode") == "map" else ""
        dynamic = (f'"dynamic" {json.dumps(json.dumps(child))} "{{" ("for_each" "=" expr'
                   f' | "iterator" "=" IDENT | "labels" "=" expr)* "content" "{{" {body} "}}" "}}"')
        return f'{json.dumps(child)}{label} "{{" {body} "}}" | {dynamic}'

    def value(self, kind: Any) -> str:
        """The rule for a value of a schema type."""
        if kind in ("string", "number", "bool"):
            return f"v_{kind}"
        if isinstance(kind, list) and kind[0] in ("list", "set") and kind[1] in (
                "string", "number", "bool"):
            name = f"v_{kind[0]}_{kind[1]}"
            self.rules.setdefault(
                name, f'"[" (v_{kind[1]} ("," v_{kind[1]})* ","?)? "]" | for_tuple | "null"'
                      " | reference")
            return name
        if isinstance(kind, list) and kind[0] in ("list", "set", "tuple"):
            self.rules.setdefault("v_list", 'tuple | for_tuple | "null" | reference')
            return "v_list"
        if isinstance(kind, list) and kind[0] == "map" and kind[1] in ("string", "number", "bool"):
            name = f"v_map_{kind[1]}"  # `tags`: no object or list where a string belongs
            item = f'(IDENT | STRING | "(" expr ")") ("=" | ":") v_{kind[1]}'
            self.rules.setdefault(name, f'"{{" ({item} (","? {item})* ","?)? "}}" | for_object'
                                        ' | "null" | reference')
            return name
        if isinstance(kind, list) and kind[0] in ("map", "object"):
            return "v_map"
        return "expr"


def _object_fields(kind: Any) -> dict[str, Any] | None:
    """The fields of a list or set of objects (written with block syntax too), else None."""
    if (isinstance(kind, list) and kind[0] in ("list", "set") and isinstance(kind[1], list)
            and kind[1][0] == "object"):
        return kind[1][1]
    return None


@functools.cache
def _core(name: str = "hcl.lark") -> str:
    return files("iacforge.constrain").joinpath(name).read_text(encoding="utf-8")


def _heredoc_terminal() -> str:
    """HEREDOC: `<<MARK` or `<<-MARK`, then lines up to one that is only the marker."""
    return "HEREDOC: /" + "|".join(_heredoc(m) for m in HEREDOC_MARKERS) + "/\n"


def _heredoc(marker: str) -> str:
    # a line that is not the closing one: it differs from the marker somewhere, or goes on
    differs = ["[^ \\t\\n" + marker[0] + "][^\\n]*"]
    differs += [marker[:i] + "[^\\n" + marker[i] + "][^\\n]*" for i in range(1, len(marker))]
    differs += [marker[:i] for i in range(1, len(marker))]
    differs.append(marker + "[^\\n]+")
    line = "[ \\t]*(" + "|".join(differs) + ")?\\n"
    return f"<<-?{marker}\\n({line})*[ \\t]*{marker}"
