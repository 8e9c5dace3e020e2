"""English requests for specs and their changes, from the templates in `synth_text.json`.

A request states exactly what the intent checks (see `iacforge.data.intent.checked`): every
checked literal, tag, encoded-document fact and reference, and nothing a solution could not
know. Wording varies by a seeded `Random`, so the same seed gives the same text.
"""

from __future__ import annotations

import functools
import json
import re
from importlib import resources
from random import Random
from typing import Any

from iacforge.data.intent import checked
from iacforge.data.spec import Body, Raw, Ref, Resource, Spec, direct_refs

#: The attribute that names a resource of a type, where it is not `name` (elsewhere `bucket`
#: and `function_name` name another resource: a bucket policy's bucket).
_NAMING = {"aws_s3_bucket": "bucket", "aws_lambda_function": "function_name"}
#: Share of the resources with a name that a request names with a `name_forms` phrase.
NAMED = 0.4
#: A name written without quotes ("named app-logs"); others are quoted.
_BARE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]*")


@functools.cache
def text() -> dict[str, Any]:
    """The phrase templates (openers, nouns, attribute and reference forms, mutations)."""
    return json.loads(resources.files(__package__).joinpath("synth_text.json").read_text("utf-8"))


def noun(type_: str, rng: Random | None = None) -> str:
    """An indefinite noun phrase for a type ("an S3 bucket"); the first form without rng."""
    forms = text()["nouns"].get(type_) or [f"an {type_} resource"]
    return rng.choice(forms) if rng else forms[0]


def the(type_: str) -> str:
    """The definite form ("the S3 bucket")."""
    phrase = noun(type_)
    return "the " + phrase.split(" ", 1)[1] if phrase.split(" ", 1)[0] in ("a", "an") \
        else f"the {phrase}"


def value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v) for v in value)
    return str(value)


def describe(resource: Resource, rng: Random) -> str:
    """A noun phrase for one resource with every checked fact: its name at times ("an S3
    bucket named 'logs'", as IaC-Eval's prompts and users say it), references ("a subnet in
    the VPC"), then attributes ("with cidr_block ..."), then document facts."""
    naming = _naming(resource, rng)
    links, attrs, clauses = _body_parts(resource.body, resource.quiet, rng,
                                        skip=naming[0] if naming else None)
    phrase = noun(resource.type, rng)
    if naming:
        phrase += " " + naming[1]
    if links:
        phrase += " " + ", ".join(links)
    if attrs:
        opener, joiner = rng.choice(text()["joiners"])
        phrase += f"{',' if links else ''} {opener}{joiner.join(attrs)}"
    return ", ".join([phrase, *clauses])


def request(spec: Spec, rng: Random) -> str:
    """The English request a spec answers."""
    return styled_request(spec, rng)[1]


def styled_request(spec: Spec, rng: Random) -> tuple[str, str]:
    """(style, request): the request in one of the `styles` of `synth_text.json` (plain,
    terse, verbose, bullets, prose), drawn by their weights; every style states every item."""
    items = [describe(r, rng) for r in spec.resources]
    styles = text()["styles"]
    style = rng.choices(list(styles), weights=list(styles.values()))[0]
    if style == "bullets" and len(items) < 2:
        style = "plain"
    return style, _STYLES[style](items, spec.region, rng)


def _joined(items: list[str]) -> str:
    return items[0] if len(items) == 1 else "; ".join(items[:-1]) + "; and " + items[-1]


def _plain(items: list[str], region: str, rng: Random) -> str:
    template = rng.choice(text()["openers"])
    sentence = template.format(items=_joined(items), region=region)
    if "{region}" not in template and rng.random() < 0.5:
        sentence += f" Use the {region} region."
    return sentence


def _terse(items: list[str], region: str, rng: Random) -> str:
    return rng.choice(text()["terse"]).format(items="; ".join(items), region=region)


def _verbose(items: list[str], region: str, rng: Random) -> str:
    forms = text()["verbose"]
    parts = [rng.choice(forms["intros"]).format(region=region),
             rng.choice(forms["bodies"]).format(items=_joined(items), region=region),
             rng.choice(forms["closings"]).format(region=region)]
    return " ".join(parts)


def _bullets(items: list[str], region: str, rng: Random) -> str:
    opener = rng.choice(text()["list_openers"]).format(region=region)
    marks = rng.choice(("-", "*", "1."))
    lines = [f"{i + 1}. {item}" if marks == "1." else f"{marks} {item}"
             for i, item in enumerate(items)]
    return opener + "\n" + "\n".join(lines)


def _prose(items: list[str], region: str, rng: Random) -> str:
    """One sentence per block, as benchmark prompts are often written."""
    forms = text()["prose"]
    sentences = [rng.choice(forms["first"]).format(item=items[0], region=region)]
    sentences += [rng.choice(forms["next"]).format(item=item) for item in items[1:]]
    if rng.random() < 0.5:
        sentences.append(rng.choice(forms["region"]).format(region=region))
    return " ".join(sentences)


_STYLES = {"plain": _plain, "terse": _terse, "verbose": _verbose, "bullets": _bullets,
           "prose": _prose}


def attribute(name: str, value: Any, rng: Random) -> str:
    """One attribute as a phrase ("visibility_timeout_seconds set to 30")."""
    return rng.choice(text()["attr_forms"]).format(attr=name, value=value_text(value))


def tag_phrase(pairs: dict[str, str], rng: Random) -> str:
    listed = " and ".join(f'{k} = "{v}"' for k, v in pairs.items())
    return rng.choice(text()["tag_forms"]).format(pairs=listed)


def reference(name: str, refs: list[Ref]) -> str:
    targets = " and ".join(dict.fromkeys(the(r.type) for r in refs))
    form = text()["ref_forms"].get(name, "whose {attr} refers to {target}")
    return form.format(target=targets, attr=name)


def _naming(resource: Resource, rng: Random) -> tuple[str, str] | None:
    """(attribute, phrase) when the request names the resource by its name attribute
    ("named app-logs", "called 'jobs'"), for a share `NAMED` of the resources that have one."""
    attr = _NAMING.get(resource.type, "name")
    value = resource.body.attrs.get(attr)
    if not isinstance(value, str) or not checked(attr, value, resource.quiet) \
            or rng.random() >= NAMED:
        return None
    forms = text()["name_forms"]
    if not _BARE.fullmatch(value):
        forms = [f for f in forms if "{quoted}" in f]
    return attr, rng.choice(forms).format(bare=value, quoted=json.dumps(value))


def _body_parts(body: Body, quiet: frozenset[str], rng: Random, skip: str | None = None
                ) -> tuple[list[str], list[str], list[str]]:
    """(reference phrases, attribute phrases, document clauses) of a block body, but `skip`."""
    links: list[str] = []
    attrs: list[str] = []
    clauses: list[str] = []
    for name, value in body.attrs.items():
        if name == skip or not checked(name, value, quiet):
            continue
        refs = direct_refs(value)
        if refs:
            links.append(reference(name, refs))
        elif isinstance(value, Raw):
            if value.phrase:
                clauses.append(value.phrase)
        elif isinstance(value, dict):
            if name == "tags":
                attrs.append(tag_phrase(value, rng))
            elif value:
                listed = " and ".join(f'{k} = "{v}"' for k, v in value.items())
                attrs.append(f"{name} {listed}")
        else:
            attrs.append(attribute(name, value, rng))
    for name, inner in body.blocks:
        inner_links, inner_attrs, inner_clauses = _body_parts(inner, frozenset(), rng)
        inner_parts = inner_attrs + inner_links + inner_clauses
        article = "an" if name[0] in "aeiou" else "a"
        if inner_parts:
            attrs.append(f"{article} {name} block with {' and '.join(inner_parts)}")
        elif not inner.attrs:  # an empty block is a choice too (`allow {}`)
            attrs.append(f"an empty {name} block")
    return links, attrs, clauses


