"""Screen a parsed candidate for what could act outside its sandbox, before anything runs it.

Each rule yields Diagnostics naming the construct, its file and line:

- files: too many, too large;
- providers that run programs, touch host files or the network (null, external, http,
  local, …), denied resource and data types (`terraform_remote_state`, …) and argument
  values (an SNS subscription over http), provisioners;
- module sources that are not local paths inside the candidate (registry, git, http, s3, an
  absolute path, `../` out of the candidate), local backend state paths outside it;
- host paths: `file()`, `templatefile()`, `fileset()`, … and resource arguments naming files,
  whose path is absolute, starts with `~`, or climbs with `..` (directly, or through the
  default of a variable or the value of a local);
- cost: `count` above a bound, `range()` longer than a bound, `pow()` towers and large
  exponents, `format()` widths, enormous strings, deep nesting.

The policy (what is allowed, and the bounds) is data: see screen_policy.py. Whatever the screen
lets through still runs only in the sandbox (sandbox.py); the screen is the first of two walls.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from typing import Any

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.model import Block, TerraformModel
from iacforge.verify.expressions import Call, Token, calls, tokenize
from iacforge.verify.screen_locate import (
    address_at,
    attribute_value,
    entries,
    line_in_block,
    root_name,
    sources,
    typed_blocks,
    unwrap,
)
from iacforge.verify.screen_policy import ScreenPolicy

_HOST_PATH = re.compile(r"^\s*(?:/|~|[A-Za-z]:[\\/]|\\\\)")
_PARENT = re.compile(r"(?:^|[/\\])\.\.(?:[/\\]|$)")
_FORMAT_VERB = re.compile(r"%[-+# 0]*(\*|\d+)?(?:\.(\*|\d+))?")
_REGISTRY = re.compile(r"^(?:[\w.-]+/)?[\w-]+/[\w-]+/[\w-]+(?://.*)?$")
Resolve = Callable[[str, str], Any]


def screen(model: TerraformModel, policy: ScreenPolicy) -> list[Diagnostic]:
    """Every reason to refuse `model` under `policy`; empty when it may run (sandboxed)."""
    resolve = _resolver(model)
    found = [*_files(model, policy), *_structure(model, policy, resolve)]
    for file, tokens, where in sources(model):
        found += [replace(d, address=address_at(model, file, d.line))
                  for d in _expressions(file, tokens, where, policy, resolve)]
    unique = {(d.rule_id, d.file, d.line): d for d in reversed(found)}  # file(pathexpand(…))
    return sorted(unique.values(), key=lambda d: (d.file or "", d.line or 0))


def _finding(rule: str, summary: str, detail: str, file: str | None, line: int | None,
             address: str | None = None) -> Diagnostic:
    return Diagnostic("error", summary, detail, file=file, line=line, address=address,
                      rule_id=f"iacforge/screen/{rule}")


def _files(model: TerraformModel, policy: ScreenPolicy) -> Iterator[Diagnostic]:
    limits = policy.limits
    if len(model.files) > limits["max_files"]:
        yield _finding("file-count", f"{len(model.files)} files (at most {limits['max_files']})",
                       "a candidate is one root module of a few files", None, None)
    total = 0
    for name, text in sorted(model.files.items()):
        size = len(text.encode("utf-8", "surrogatepass"))
        total += size
        if size > limits["max_file_bytes"]:
            yield _finding("file-size", f"file of {size} bytes (at most "
                           f"{limits['max_file_bytes']})", "", name, None)
    if total > limits["max_total_bytes"]:
        yield _finding("total-size", f"{total} bytes in all (at most "
                       f"{limits['max_total_bytes']})", "", None, None)


# --- structure: providers, types, provisioners, modules, backends, counts --------------------


def _structure(model: TerraformModel, policy: ScreenPolicy,
               resolve: Resolve) -> Iterator[Diagnostic]:
    yield from _providers(model, policy)
    for kind, type_, block, body in typed_blocks(model):
        if type_ in policy.denied_types:
            yield _finding("type", f'{kind} "{type_}" is not allowed',
                           policy.denied_types[type_], block.file,
                           line_in_block(model, block, rf'"?{re.escape(type_)}"?'), block.address)
        yield from _arguments(model, block, type_, body, policy)
        if kind == "resource":
            yield from _provisioners(model, block, body, policy)
            yield from _path_arguments(model, block, type_, body, policy, resolve)
        yield from _count(model, block, body, policy, resolve)
    for block in model.of_kind("module"):
        yield from _count(model, block, block.body, policy, resolve)
        source = attribute_value(block, "source")
        kind = source_kind(str(source), block.file)
        if kind not in policy.allowed_module_sources:
            yield _finding("module-source", f"module source {source!r} ({kind}) is not allowed",
                           "only local modules inside the candidate are used: fetching code "
                           "from elsewhere is never allowed", block.file,
                           line_in_block(model, block, r"\bsource\b"), block.address)
    for block in model.of_kind("terraform"):
        for entry in entries(block.body.get("backend")):
            for backend, config in entry.items():
                yield from _backend(model, block, backend, config, policy, resolve)


def _providers(model: TerraformModel, policy: ScreenPolicy) -> Iterator[Diagnostic]:
    reported: set[str] = set()
    for name, source, block, pattern in _provider_uses(model):
        denied = policy.denied_providers.get(name) or policy.denied_providers.get(source)
        other = name not in policy.allowed_providers and policy.other_providers == "unsafe"
        if name in reported or not (denied or other):
            continue
        reported.add(name)
        shown = f"{name} ({source})" if source and source != name else name
        yield _finding("provider", f"provider {shown} is not allowed",
                       denied or "not on the screen policy's allow-list", block.file,
                       line_in_block(model, block, pattern), block.address)


def _provider_uses(model: TerraformModel) -> Iterator[tuple[str, str, Block, str]]:
    """(local name, source type or "", block, where-pattern) for every provider in use."""
    for kind, type_, block, body in typed_blocks(model):
        yield type_.split("_", 1)[0], "", block, rf'{kind}\W+{re.escape(type_)}\b|"{type_}"'
        meta = unwrap(body.get("provider"))
        if isinstance(meta, str):
            yield root_name(meta), "", block, r"\bprovider\b"
    for block in model.of_kind("provider"):
        if block.labels:
            yield block.labels[0], "", block, r"\bprovider\b"
    for block in model.of_kind("module"):
        for mapping in entries(block.body.get("providers")):
            for value in mapping.values():
                yield root_name(str(unwrap(value))), "", block, r"\bproviders\b"
    for block in model.of_kind("terraform"):
        for required in entries(block.body.get("required_providers")):
            for name, spec in required.items():
                source = unwrap(spec)
                source = source.get("source", "") if isinstance(source, dict) else source
                yield (name, str(unwrap(source) or "").rsplit("/", 1)[-1].lower(), block,
                       rf'"?\b{re.escape(name)}"?\s*[=:]')


def _provisioners(model: TerraformModel, block: Block, body: dict,
                  policy: ScreenPolicy) -> Iterator[Diagnostic]:
    for entry in entries(body.get("provisioner")):
        for kind in entry:
            if kind not in policy.allowed_provisioners:
                yield _finding("provisioner", f'provisioner "{kind}" is not allowed',
                               "provisioners run commands or copy files; the verifier never "
                               "runs them", block.file,
                               line_in_block(model, block, rf'provisioner\s*"?{re.escape(kind)}|'
                                                   rf'"{re.escape(kind)}"'), block.address)


def _arguments(model: TerraformModel, block: Block, type_: str, body: dict,
               policy: ScreenPolicy) -> Iterator[Diagnostic]:
    for rule, why in policy.denied_arguments.items():
        target, _, wanted = rule.partition("=")
        kind, _, argument = target.partition(".")
        value = attribute_value(block, argument, body) if kind == type_ else None
        if value is None or (wanted and str(value).lower() != wanted.lower()):
            continue
        shown = f"{argument} = {value!r}" if wanted else argument
        yield _finding("argument", f"{type_} {shown} is not allowed", why, block.file,
                       line_in_block(model, block, rf"\b{re.escape(argument)}\b"), block.address)


def _path_arguments(model: TerraformModel, block: Block, type_: str, body: dict,
                    policy: ScreenPolicy, resolve: Resolve) -> Iterator[Diagnostic]:
    for argument in policy.path_arguments.get(type_, ()):
        value = attribute_value(block, argument, body)
        problem = isinstance(value, str) and path_problem(
            tokenize(value, template=True), resolve, policy.path_calls)
        if problem:
            yield _finding("host-path", f"{argument} names a path outside the configuration",
                           problem, block.file, line_in_block(model, block, rf"\b{argument}\b"),
                           block.address)


def _count(model: TerraformModel, block: Block, body: dict, policy: ScreenPolicy,
           resolve: Resolve) -> Iterator[Diagnostic]:
    bound = policy.limits["max_count"]
    value = attribute_value(block, "count", body)
    if _is_number(value):
        numbers = [float(value)]
    else:
        tokens = tokenize(value, template=True) if isinstance(value, str) else []
        numbers = [float(t.text) for t in tokens if t.kind == "number"]
        numbers += [float(v) for v in (resolve(*r) for r in _references(tokens))
                    if _is_number(v)]
    if any(n > bound for n in numbers):
        yield _finding("count", f"count of {max(numbers):g} (at most {bound})",
                       "a runaway count exhausts memory and time", block.file,
                       line_in_block(model, block, r"\bcount\b"), block.address)


def _backend(model: TerraformModel, block: Block, backend: str, config: Any,
             policy: ScreenPolicy, resolve: Resolve) -> Iterator[Diagnostic]:
    # normalise removes every backend before terraform runs; the policy names the arguments
    # that point at host files all the same (`backend.local`: path, workspace_dir)
    for entry in entries(config):
        for key in policy.path_arguments.get(f"backend.{backend}", ()):
            value = unwrap(entry.get(key))
            problem = isinstance(value, str) and path_problem(
                tokenize(value, template=True), resolve, policy.path_calls)
            if problem:
                yield _finding("backend-path", f'backend "{backend}" {key} is outside the '
                               "configuration", problem, block.file,
                               line_in_block(model, block, rf"\b{key}\b"), block.address)


def source_kind(source: str, file: str) -> str:
    """What a module source is: local, escaping, absolute, registry, git, http, s3, …"""
    if source in (".", "..") or source.startswith(("./", "../")):
        resolved = posixpath.normpath(posixpath.join(posixpath.dirname(file), source))
        return "escaping" if resolved == ".." or resolved.startswith("../") else "local"
    if _HOST_PATH.match(source):
        return "absolute"
    if "::" in source:
        return source.split("::", 1)[0].lower()
    if source.startswith(("http://", "https://")):
        return "http"
    if source.startswith(("github.com/", "bitbucket.org/", "git@")):
        return "git"
    if ".amazonaws.com/" in source:
        return "s3"
    return "registry" if _REGISTRY.match(source) else "unknown"


# --- expressions: host paths, cost, strings, nesting ----------------------------------------


def _expressions(file: str, tokens: list[Token], where: Callable[[int], int],
                 policy: ScreenPolicy, resolve: Resolve) -> list[Diagnostic]:
    limits, found = policy.limits, []
    for call in calls(tokens):
        line = where(call.offset)
        for index in policy.path_functions.get(call.name, ()):
            problem = index < len(call.args) and path_problem(call.args[index], resolve,
                                                              policy.path_calls)
            if problem:
                found.append(_finding("host-path", f"{call.name}() reads outside the "
                                      "configuration", problem, file, line))
        problem = _cost(call, limits, resolve)
        if problem:
            rule = "format" if call.name == "formatlist" else call.name
            found.append(_finding(rule, f"{call.name}() is too costly", problem, file, line))
    for token in tokens:
        if token.kind == "text" and len(token.text) > limits["max_string_bytes"]:
            found.append(_finding("string-size", f"string of {len(token.text)} bytes (at most "
                                  f"{limits['max_string_bytes']})", "", file,
                                  where(token.offset)))
    deepest = max(tokens, key=lambda t: t.depth, default=None)
    if deepest is not None and deepest.depth > limits["max_nesting"]:
        found.append(_finding("nesting", f"expressions nested {deepest.depth} deep (at most "
                              f"{limits['max_nesting']})", "", file, where(deepest.offset)))
    return found


def path_problem(tokens: Sequence[Token], resolve: Resolve, allowed_calls: frozenset[str],
                 depth: int = 0) -> str:
    """Why the path these tokens build may leave the configuration, or "" when it may not.

    A path may be written with literals, `path.module` and friends, references, and the
    string functions in `allowed_calls`; a variable's default and a local's value are
    followed. Anything computed otherwise (`base64decode(...)`) cannot be checked: refused.
    """
    previous: Token | None = None
    computed = ""
    for i, token in enumerate(tokens):
        text = _unescape(token.text) if token.kind == "text" else ""
        leading = previous is None or previous.kind == "open"
        if text and leading and _HOST_PATH.match(text):
            return f"host path {text.strip()!r}"
        if text and _PARENT.search(text):
            return f"'..' climbs out of the configuration in {text!r}"
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if token.kind == "ident" and following is not None and following.text == "(" \
                and token.text not in allowed_calls and not computed:
            computed = f"the path is computed by {token.text}(), which the screen cannot follow"
        reference = _reference(tokens, i)
        if reference and depth < 4:
            value = resolve(*reference)
            inner = isinstance(value, str) and path_problem(
                tokenize(value, template=True), resolve, allowed_calls, depth + 1)
            if inner:
                return f"{'.'.join(reference)} is {value!r}: {inner}"
        previous = token
    return computed


def _unescape(text: str) -> str:
    """A quoted string's escapes (\\n, \\u002f, …) decoded, so they cannot hide a path."""
    if "\\" not in text:
        return text
    try:
        return text.encode("latin-1", "backslashreplace").decode("unicode_escape")
    except UnicodeDecodeError:
        return text


def _cost(call: Call, limits: Mapping[str, int], resolve: Resolve) -> str:
    args = call.args
    if call.name == "range":
        numbers = [_number(arg, resolve) for arg in args]
        if all(n is not None for n in numbers) and numbers:
            start, stop, step = ([0.0, *numbers, 1.0] if len(numbers) == 1
                                 else [*numbers, 1.0])[:3]
            length = (stop - start) / step if step else float("inf")
        else:
            length = max((n for n in numbers if n is not None), default=0.0)
        if abs(length) > limits["max_range"]:
            return f"range of {abs(length):g} elements (at most {limits['max_range']})"
    elif call.name == "pow" and len(args) == 2:
        if any(t.kind == "ident" and t.text == "pow" for t in args[1]):
            return "pow() in an exponent"
        exponent = _number(args[1], resolve)
        if exponent is not None and abs(exponent) > limits["max_pow_exponent"]:
            return f"exponent {exponent:g} (at most {limits['max_pow_exponent']})"
    elif call.name in ("format", "formatlist") and args:
        for token in _resolved_texts(args[0], resolve):
            for verb in _FORMAT_VERB.finditer(token):
                sizes = [s for s in verb.groups() if s]
                if "*" in sizes or any(int(s) > limits["max_format_width"] for s in sizes
                                       if s != "*"):
                    return (f"format verb {verb.group()!r} pads beyond "
                            f"{limits['max_format_width']} characters")
    return ""


def _number(tokens: tuple[Token, ...], resolve: Resolve) -> float | None:
    """The value of a numeric literal argument (or a variable/local holding one)."""
    signs = [t for t in tokens if t.kind == "punct" and t.text == "-"]
    numbers = [t for t in tokens if t.kind == "number"]
    if len(numbers) == 1 and len(tokens) == len(signs) + 1:
        return float(numbers[0].text) * (-1) ** len(signs)
    reference = _reference(tokens, 0)
    if reference and len(tokens) == 3:
        value = resolve(*reference)
        if _is_number(value):
            return float(value)
        if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value.strip()):
            return float(value)
    return None


def _resolved_texts(tokens: tuple[Token, ...], resolve: Resolve) -> Iterator[str]:
    for i, token in enumerate(tokens):
        if token.kind == "text":
            yield token.text
        reference = _reference(tokens, i)
        value = resolve(*reference) if reference else None
        if isinstance(value, str):
            yield value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _references(tokens: Sequence[Token]) -> Iterator[tuple[str, str]]:
    for i in range(len(tokens)):
        reference = _reference(tokens, i)
        if reference:
            yield reference


def _reference(tokens: Sequence[Token], i: int) -> tuple[str, str] | None:
    """(`var` | `local`, name) when tokens[i:] start with `var.name` or `local.name`."""
    if (tokens[i].kind == "ident" and tokens[i].text in ("var", "local")
            and i + 2 < len(tokens) and tokens[i + 1].text == "."
            and tokens[i + 2].kind == "ident"):
        return tokens[i].text, tokens[i + 2].text
    return None


def _resolver(model: TerraformModel) -> Resolve:
    """Look up a variable's default or a local's value, as written."""
    values: dict[tuple[str, str], Any] = {}
    for block in model.of_kind("variable"):
        if block.labels:
            values[("var", block.labels[0])] = attribute_value(block, "default")
    for block in model.of_kind("locals"):
        for name in block.body:
            values[("local", name)] = attribute_value(block, name)
    return lambda kind, name: values.get((kind, name))
