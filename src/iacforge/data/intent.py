"""Derive a Rego intent symbolically: from a spec (synthesized tasks) or a plan (curated ones).

Each resource becomes one rule that holds when the plan has a resource of that type with the
same literal values (`planned_values`), the same substrings in encoded documents, and
references to blocks of the same types (`configuration`). Names are never checked: an
answer may call its resources anything. The policy is Rego v1 in package
`terraform.validation`, every rule has a `false` default, and `is_valid` ANDs them, so the
IaC-Eval rule (no false leaf) and the strict rule (`is_valid` true) agree.

>>> from iacforge.data.spec import Body, Resource, Spec
>>> spec = Spec((Resource("aws_sqs_queue", "jobs", Body({"delay_seconds": 5})),))
>>> "r.values.delay_seconds == 5" in intent_for_spec(spec)
True
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from iacforge.data.spec import Body, Raw, Ref, Resource, Spec, direct_refs

_PLANNED = "input.planned_values.root_module.resources"
_CONFIG = "input.configuration.root_module.resources"
_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: Attribute names whose values an intent never states (they are secrets, not intent).
SECRET_WORDS = ("password", "secret", "token", "private_key")


def intent_for_spec(spec: Spec, *, counts: Iterable[tuple[str, int]] = ()) -> str:
    """The intent policy of a spec; `counts` adds rules "exactly k resources of type T"."""
    rules: dict[str, list[str]] = {}
    for resource in spec.resources:
        body = resource_conditions(resource)
        rules[_unique(rule_name(resource), rules)] = body
    for type_, k in counts:
        rules[_unique(f"count_{_short(type_)}", rules)] = [
            f'count([r | some r in {_PLANNED}; r.type == "{type_}"]) == {k}']
    return policy(rules)


def policy(rules: dict[str, list[str]]) -> str:
    """A v1 policy from rule name → body lines, with `is_valid` ANDing every rule."""
    out = ["package terraform.validation", "", "import rego.v1", "", "default is_valid := false"]
    out += [f"default {name} := false" for name in rules]
    for name, body in rules.items():
        out += ["", f"{name} if {{", *(f"\t{line}" for line in body), "}"]
    out += ["", "is_valid if {", *(f"\t{name}" for name in rules), "}"]
    return "\n".join(out) + "\n"


def rule_name(resource: Resource) -> str:
    prefix = "data_" if resource.mode == "data" else ""
    return re.sub(r"\W", "_", f"{prefix}{_short(resource.type)}_{resource.name}")


def resource_conditions(resource: Resource) -> list[str]:
    """The body of the rule that finds `resource` in a plan."""
    if resource.mode == "data":
        lines = [f"some d in {_CONFIG}", 'd.mode == "data"', f'd.type == "{resource.type}"']
        return lines + _expression_checks(resource.body, "d", resource.quiet)
    lines = [f"some r in {_PLANNED}", f'r.type == "{resource.type}"']
    lines += _value_checks(resource.body, "r.values", resource.quiet, depth=0)
    refs = [(name, value) for name, value in resource.body.attrs.items()
            if name not in resource.quiet and direct_refs(value)]
    if refs:
        lines += [f"some c in {_CONFIG}", "c.address == r.address"]
        for index, (name, value) in enumerate(refs):
            types = dict.fromkeys(ref.address.rsplit(".", 1)[0] for ref in direct_refs(value))
            for number, type_ in enumerate(types):
                var = f"ref{index}_{number}"
                lines += [f"some {var} in c.expressions{_path(name)}.references",
                          f'startswith({var}, "{type_}.")']
    return lines


def checked(name: str, value: Any, quiet: frozenset[str]) -> bool:
    """Whether an attribute's value is stated in requests and checked in intents."""
    return name not in quiet and not any(w in name for w in SECRET_WORDS) and value is not None


def _value_checks(body: Body, var: str, quiet: frozenset[str], depth: int) -> list[str]:
    """Rego lines checking `body`'s literal values under `var`; a nested block's variable is
    named by its path (b0, b0_1, …), so sibling blocks' inner blocks never share one."""
    lines: list[str] = []
    for name, value in body.attrs.items():
        if not checked(name, value, quiet):
            continue
        here = f"{var}{_path(name)}"
        if isinstance(value, Raw):
            if not value.refs:
                lines += [f"contains({here}, {json.dumps(s)})" for s in value.contains]
        elif isinstance(value, dict):
            lines += [f"{here}{_path(k)} == {json.dumps(v)}" for k, v in value.items()
                      if _scalar(v)]
        elif isinstance(value, list | tuple):
            lines += [f"{json.dumps(v)} in {here}" for v in value if _scalar(v)]
        elif _scalar(value):
            lines.append(f"{here} == {json.dumps(value)}")
    for index, (name, inner) in enumerate(body.blocks):
        inner_var = f"{var}_{index}" if depth else f"b{index}"
        inner_lines = _value_checks(inner, inner_var, frozenset(), depth + 1)
        if inner_lines:
            lines += [f"some {inner_var} in {var}{_path(name)}", *inner_lines]
    return lines


def _expression_checks(body: Body, var: str, quiet: frozenset[str], *, top: bool = True
                       ) -> list[str]:
    """Checks on a data source's configuration (`expressions.X.constant_value`; a nested
    block is a list of such objects)."""
    lines: list[str] = []
    prefix = f"{var}.expressions" if top else var
    for name, value in body.attrs.items():
        if not checked(name, value, quiet):
            continue
        here = f"{prefix}{_path(name)}.constant_value"
        if isinstance(value, list | tuple):
            lines += [f"{json.dumps(v)} in {here}" for v in value if _scalar(v)]
        elif _scalar(value):
            lines.append(f"{here} == {json.dumps(value)}")
    for index, (name, inner) in enumerate(body.blocks):
        inner_var = f"{var}{index}"
        inner_lines = _expression_checks(inner, inner_var, frozenset(), top=False)
        if inner_lines:
            lines += [f"some {inner_var} in {prefix}{_path(name)}", *inner_lines]
    return lines


def intent_from_plan(plan: dict[str, Any], *, max_values: int = 6) -> str | None:
    """An intent derived from a plan: each managed resource's type, up to `max_values` literal
    scalar arguments (as configured), and the types its top-level arguments reference.
    None when the plan configures no resources."""
    resources = plan.get("configuration", {}).get("root_module", {}).get("resources", [])
    rules: dict[str, list[str]] = {}
    for entry in resources:
        if entry.get("mode") != "managed" or "count_expression" in entry \
                or "for_each_expression" in entry:
            continue
        attrs: dict[str, Any] = {}
        for name, expr in entry.get("expressions", {}).items():
            if not isinstance(expr, dict):
                continue
            if _scalar(expr.get("constant_value")) and len(attrs) < max_values:
                attrs[name] = expr["constant_value"]
            elif expr.get("references"):
                attrs[name] = Ref(_ref_target(expr["references"][0]))
        resource = Resource(entry["type"], entry["name"], Body(attrs))
        rules[_unique(rule_name(resource), rules)] = resource_conditions(resource)
    return policy(rules) if rules else None


def _ref_target(reference: str) -> str:
    """`aws_vpc.main.id` → `aws_vpc.main`; `data.aws_ami.x.id` → `data.aws_ami.x`."""
    parts = reference.split(".")
    return ".".join(parts[:3] if parts[0] == "data" else parts[:2])


def _scalar(value: Any) -> bool:
    return isinstance(value, str | int | float | bool) and not isinstance(value, Raw)


def _path(key: str) -> str:
    return f".{key}" if _IDENT.match(key) else f"[{json.dumps(key)}]"


def _short(type_: str) -> str:
    return type_.removeprefix("aws_")


def _unique(name: str, taken: dict[str, Any]) -> str:
    if name not in taken:
        return name
    return next(f"{name}_{i}" for i in range(2, len(taken) + 3) if f"{name}_{i}" not in taken)
