"""Symbolic edits of a spec: (initial spec, English change request, target spec, intent).

| op | initial → target |
| --- | --- |
| `change` | one attribute takes another of its recorded choices |
| `tag` | a taggable resource gets a new tag |
| `extend` | resources of another family are added |
| `remove` | a resource nothing refers to is deleted |
| `add` | the inverse of remove: the initial lacks a resource the target has |
| `wire` | an optional reference (subnet, alarm action, DLQ, …) is connected |

The intent is the target's symbolic intent plus "exactly k of type T" rules for every type
whose count changed, so it should fail on the initial spec; the synthesizer keeps a mutation
only when the verifier confirms it passes on the target and fails on the initial.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from random import Random
from typing import Any

from iacforge.data.describe import describe, noun, text, the, value_text
from iacforge.data.intent import checked, intent_for_spec
from iacforge.data.spec import Body, Ref, Resource, Spec

#: (type, attribute) references a resource is valid without, so a mutation can wire them.
WIRABLE = frozenset({("aws_instance", "subnet_id"), ("aws_cloudwatch_metric_alarm",
                                                     "alarm_actions"),
                     ("aws_db_instance", "db_subnet_group_name"),
                     ("aws_sqs_queue", "redrive_policy"), ("aws_security_group", "vpc_id"),
                     ("aws_eip", "instance")})
#: How often each op is tried (ops that start from the generated spec cost one plan less).
WEIGHTS = {"change": 3, "tag": 2, "extend": 2, "remove": 1, "add": 1, "wire": 1}


@dataclass(frozen=True)
class Mutation:
    op: str
    initial: Spec
    target: Spec
    request: str

    @property
    def intent(self) -> str:
        before, after = _counts(self.initial), _counts(self.target)
        counts = [(t, after[t]) for t in sorted(set(before) | set(after)) if before[t] != after[t]]
        return intent_for_spec(self.target, counts=counts)


def mutate(spec: Spec, rng: Random, *, taggable: Callable[[str], bool],
           extra: Callable[[Random], list[Resource]] | None = None) -> Mutation | None:
    """One random edit of `spec`, or None when the op drawn does not apply to it.

    `taggable(type)` says whether a type has `tags`; `extra(rng)` makes the resources an
    `extend` adds (another family's).
    """
    op = rng.choices(list(WEIGHTS), weights=list(WEIGHTS.values()))[0]
    if op == "change":
        return _change(spec, rng)
    if op == "tag":
        return _tag(spec, rng, taggable)
    if op == "extend":
        return _extend(spec, rng, extra) if extra else None
    if op == "remove":
        return _remove(spec, rng)
    if op == "add":
        found = _remove(spec, rng)
        if found is None:
            return None
        removed = next(r for r in spec.resources if r not in found.target.resources)
        request = _say("add", rng, item=describe(removed, rng))
        return Mutation("add", found.target, spec, request)
    return _wire(spec, rng)


def which(resource: Resource, spec: Spec) -> str:
    """A definite phrase that picks `resource` out of `spec` ("the subnet whose cidr_block is
    "10.0.1.0/24"")."""
    same = [r for r in spec.resources if r.type == resource.type]
    if len(same) == 1:
        return the(resource.type)
    for name, value in resource.body.attrs.items():
        if checked(name, value, resource.quiet) and isinstance(value, str | int) \
                and sum(r.body.attrs.get(name) == value for r in same) == 1:
            return f"{the(resource.type)} whose {name} is {value_text(value)}"
    return f"the {resource.name} {noun(resource.type).split(' ', 1)[1]}"


def _say(kind: str, rng: Random, **values: str) -> str:
    return rng.choice(text()["mutations"][kind]).format(**values)


def _change(spec: Spec, rng: Random) -> Mutation | None:
    options = []
    for resource in spec.resources:
        for name, choices in resource.choices.items():
            current, where = _find(resource.body, name)
            if where is None or not checked(name, current, resource.quiet):
                continue
            others = [c for c in choices if c != current and type(c) is type(current)]
            if others:
                options.append((resource, name, where, others))
    if not options:
        return None
    resource, name, where, others = rng.choice(options)
    value = rng.choice(others)
    body = _set(resource.body, where, name, value)
    target = spec.replace(resource.address, dataclasses.replace(resource, body=body))
    request = _say("change", rng, attr=name, item=which(resource, spec), value=value_text(value))
    return Mutation("change", spec, target, request)


def _tag(spec: Spec, rng: Random, taggable: Callable[[str], bool]) -> Mutation | None:
    options = [r for r in spec.resources if r.mode == "resource" and taggable(r.type)
               and "tags" not in r.quiet]
    if not options:
        return None
    resource = rng.choice(options)
    old = dict(resource.body.attrs.get("tags") or {})
    key = rng.choice([k for k in ("Owner", "Environment", "CostCenter", "Compliance",
                                  "ManagedBy", "DataClass") if k not in old])
    value = rng.choice({"Owner": ("platform-team", "sre", "data-eng"),
                        "Environment": ("prod", "staging", "dev"),
                        "CostCenter": ("cc-101", "cc-204", "cc-330"),
                        "Compliance": ("pci", "hipaa", "sox"), "ManagedBy": ("terraform",),
                        "DataClass": ("internal", "public", "confidential")}[key])
    body = resource.body.with_attrs(tags={**old, key: value})
    target = spec.replace(resource.address, dataclasses.replace(resource, body=body))
    request = _say("tag", rng, item=which(resource, spec), pairs=f'{key} = "{value}"')
    return Mutation("tag", spec, target, request)


def _extend(spec: Spec, rng: Random, extra: Callable[[Random], list[Resource]]
            ) -> Mutation | None:
    added = extra(rng)
    taken = {r.address for r in spec.resources}
    if not added or any(r.address in taken for r in added):
        return None
    target = dataclasses.replace(spec, resources=spec.resources + tuple(added))
    items = "; ".join(describe(r, rng) for r in added)
    return Mutation("extend", spec, target, _say("add", rng, item=items))


def _remove(spec: Spec, rng: Random) -> Mutation | None:
    referenced = spec.referenced()
    managed = [r for r in spec.resources if r.mode == "resource"]
    options = [r for r in managed if r.address not in referenced]
    if len(managed) < 2 or not options:
        return None
    resource = rng.choice(options)
    target = spec.replace(resource.address, None)
    if not any(r.mode == "resource" for r in target.resources):
        return None
    request = _say("remove", rng, item=which(resource, spec))
    return Mutation("remove", spec, target, request)


def _wire(spec: Spec, rng: Random) -> Mutation | None:
    options = [(r, name) for r in spec.resources for name, value in r.body.attrs.items()
               if (r.type, name) in WIRABLE and _has_ref(value)]
    if not options:
        return None
    resource, name = rng.choice(options)
    loose = dataclasses.replace(resource, body=resource.body.with_attrs(**{name: None}))
    initial = spec.replace(resource.address, loose)
    value = resource.body.attrs[name]
    refs = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, Ref)]
    refs += list(getattr(value, "refs", ()))
    target_phrase = " and ".join(dict.fromkeys(the(r.type) for r in refs))
    request = _say("wire", rng, item=which(resource, initial), target=target_phrase, attr=name)
    return Mutation("wire", initial, spec, request)


def _counts(spec: Spec) -> Counter[str]:
    return Counter(r.type for r in spec.resources if r.mode == "resource")


def _has_ref(value: Any) -> bool:
    if isinstance(value, Ref):
        return True
    if isinstance(value, list):
        return any(isinstance(v, Ref) for v in value)
    return bool(getattr(value, "refs", ()))


def _find(body: Body, name: str) -> tuple[Any, tuple[int, ...] | None]:
    """The value of `name` in a body or its nested blocks, and where (block indexes)."""
    if name in body.attrs:
        return body.attrs[name], ()
    for index, (_, inner) in enumerate(body.blocks):
        value, where = _find(inner, name)
        if where is not None:
            return value, (index, *where)
    return None, None


def _set(body: Body, where: tuple[int, ...], name: str, value: Any) -> Body:
    if not where:
        return body.with_attrs(**{name: value})
    blocks = list(body.blocks)
    block_name, inner = blocks[where[0]]
    blocks[where[0]] = (block_name, _set(inner, where[1:], name, value))
    return dataclasses.replace(body, blocks=tuple(blocks))
