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

The policy (what is allowed, and the bounds) is data: see policy.py. Whatever the screen
lets through still runs only in the sandbox (sandbox/bwrap.py); the screen is the first of two
walls.
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from typing import Any

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.lexer import Call, Token, calls, decode, line_of, tokenize
from iacforge.hcl.model import Block, TerraformModel
from iacforge.verify.screen.fold import fold
from iacforge.verify.screen.locate import (
    Source,
    address_at,
    entries,
    line_in_block,
    literal,
    root_name,
    sources,
    tokens_of,
    typed_blocks,
    written,
)
from iacforge.verify.screen.paths import HOST_PATH, path_problem, reference_at
from iacforge.verify.screen.policy import ScreenPolicy

_INTERPOLATION = re.compile(r"(?<![$%])[$%]\{")
_FORMAT_VERB = re.compile(r"%[-+# 0]*(\*|\d+)?(?:\.(\*|\d+))?")
_REGISTRY = re.compile(r"^(?:[\w.-]+/)?[\w-]+/[\w-]+/[\w-]+(?://.*)?$")
Resolve = Callable[[str, str], Any]


def screen(model: TerraformModel, policy: ScreenPolicy) -> list[Diagnostic]:
    """Every reason to refuse `model` under `policy`; empty when it may run (sandboxed)."""
    resolve = _resolver(model)
    found = [*_files(model, policy), *_duplicate_keys(model), *_structure(model, policy, resolve)]
    for file, tokens, where in sources(model):
        found += [replace(d, address=address_at(model, file, d.line))
                  for d in _expressions(model, file, tokens, where, policy, resolve)]
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
    for block in model.of_kind("removed"):  # terraform 1.7+: destroy-time provisioners
        yield from _provisioners(model, block, block.body, policy)
    for block in model.of_kind("module"):
        yield from _count(model, block, block.body, policy, resolve)
        source = decode(str(block.attr("source")))
        kind = source_kind(source, block.file)
        if kind not in policy.allowed_module_sources:
            yield _finding("module-source", f"module source {source!r} ({kind}) is not allowed",
                           "only local modules inside the candidate are used: fetching code "
                           "from elsewhere is never allowed", block.file,
                           line_in_block(model, block, r"\bsource\b"), block.address)
    for block in model.of_kind("terraform"):
        for entry in entries(block.body.get("backend")):
            for backend, config in entry.items():
                yield from _backend(model, block, decode(backend), config, policy, resolve)


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
        meta = block.attr("provider", body)
        if isinstance(meta, str):
            yield root_name(decode(meta)), "", block, r"\bprovider\b"
    for block in model.of_kind("provider"):
        if block.labels:
            yield decode(block.labels[0]), "", block, r"\bprovider\b"
    for block in model.of_kind("module"):
        for mapping in entries(block.body.get("providers")):
            for key in mapping:
                yield (root_name(decode(str(block.attr(key, mapping)))), "", block,
                       r"\bproviders\b")
    for block in model.of_kind("terraform"):
        for required in entries(block.body.get("required_providers")):
            for name in required:
                source = block.attr(name, required)
                source = block.attr("source", source) if isinstance(source, dict) else source
                yield (decode(name), decode(str(source or "")).rsplit("/", 1)[-1].lower(),
                       block, rf'"?\b{re.escape(name)}"?\s*[=:]')


def _provisioners(model: TerraformModel, block: Block, body: dict,
                  policy: ScreenPolicy) -> Iterator[Diagnostic]:
    for entry in entries(body.get("provisioner")):
        for label in entry:
            kind = decode(label)
            if kind not in policy.allowed_provisioners:
                yield _finding("provisioner", f'provisioner "{kind}" is not allowed',
                               "provisioners run commands or copy files; the verifier never "
                               "runs them", block.file,
                               line_in_block(model, block, rf'provisioner\s*"?{re.escape(label)}|'
                                                   rf'"{re.escape(label)}"'), block.address)


def _arguments(model: TerraformModel, block: Block, type_: str, body: dict,
               policy: ScreenPolicy) -> Iterator[Diagnostic]:
    for rule, why in policy.denied_arguments.items():
        target, _, wanted = rule.partition("=")
        kind, _, argument = target.partition(".")
        value = block.attr(argument, body) if kind == type_ else None
        value = decode(value) if isinstance(value, str) else value
        if value is None or (wanted and str(value).lower() != wanted.lower()):
            continue
        shown = f"{argument} = {value!r}" if wanted else argument
        yield _finding("argument", f"{type_} {shown} is not allowed", why, block.file,
                       line_in_block(model, block, rf"\b{re.escape(argument)}\b"), block.address)


def _path_arguments(model: TerraformModel, block: Block, type_: str, body: dict,
                    policy: ScreenPolicy, resolve: Resolve) -> Iterator[Diagnostic]:
    for argument in policy.path_arguments.get(type_, ()):
        value = block.attr(argument, body)
        problem = isinstance(value, str) and path_problem(
            tokenize(value, template=True), _with_block_each(resolve, model, block, body),
            policy.path_calls)
        if problem:
            yield _finding("host-path", f"{argument} names a path outside the configuration",
                           problem, block.file, line_in_block(model, block, rf"\b{argument}\b"),
                           block.address)


def _count(model: TerraformModel, block: Block, body: dict, policy: ScreenPolicy,
           resolve: Resolve) -> Iterator[Diagnostic]:
    for argument in ("count", "for_each"):
        value = block.attr(argument, body)
        problem = value is not None and _size_problem(argument, value, policy.limits, resolve)
        if problem:
            yield _finding("count", problem, "a runaway count exhausts memory and time",
                           block.file, line_in_block(model, block, rf"\b{argument}\b"),
                           block.address)


def _size_problem(argument: str, value: Any, limits: Mapping[str, int], resolve: Resolve) -> str:
    """Why `count` or `for_each` may make more instances than the bound ("" when it cannot).

    A count is folded (`1000 * 1000`, `pow(10, 4)`, `var.n * 2`); what cannot be folded is
    bounded by the `range()`s it reaches (their lengths multiplied, as nested `for`s would), and
    refused when it multiplies what the screen cannot follow.
    """
    bound = limits["max_count"]
    tokens = tokenize(value, template=True) if isinstance(value, str) else []
    folded = (float(value) if _is_number(value) else fold(tokens, resolve)) \
        if argument == "count" else None
    if folded is not None:
        return f"count of {folded:g} (at most {bound})" if folded > bound else ""
    reached = _expanded(tokens, resolve)
    size = 1.0
    for call in calls(reached):
        if call.name == "range":
            numbers = [fold(arg, resolve) for arg in call.args]
            if not numbers or None in numbers:
                return f"{argument} reaches a range() the screen cannot bound"
            size *= _range_length([n for n in numbers if n is not None])
    if size > bound:
        return f"{argument} of up to {size:g} instances (at most {bound})"
    multiplies = any(t.text in ("*", "pow", "setproduct") for t in reached)
    if argument == "count" and multiplies:
        return "count is computed by arithmetic the screen cannot bound"
    numbers = [float(t.text) for t in tokens if t.kind == "number"]
    return f"count of {max(numbers):g} (at most {bound})" \
        if argument == "count" and numbers and max(numbers) > bound else ""


def _expanded(tokens: list[Token], resolve: Resolve, depth: int = 0) -> list[Token]:
    """`tokens` and those of the variable defaults and local values they reference."""
    out = list(tokens)
    for i in range(len(tokens)):
        reference = reference_at(tokens, i)
        value = resolve(*reference) if reference and depth < 4 else None
        if isinstance(value, str | Source):
            out += _expanded(tokens_of(value), resolve, depth + 1)
    return out


def _range_length(numbers: list[float]) -> float:
    start, stop, step = ([0.0, *numbers, 1.0] if len(numbers) == 1 else [*numbers, 1.0])[:3]
    return abs((stop - start) / step) if step else float("inf")


def _backend(model: TerraformModel, block: Block, backend: str, config: Any,
             policy: ScreenPolicy, resolve: Resolve) -> Iterator[Diagnostic]:
    # normalise removes every backend before terraform runs; the policy names the arguments
    # that point at host files all the same (`backend.local`: path, workspace_dir)
    for entry in entries(config):
        for key in policy.path_arguments.get(f"backend.{backend}", ()):
            value = block.attr(key, entry)
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
    if HOST_PATH.match(source):
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


def _expressions(model: TerraformModel, file: str, tokens: list[Token],
                 where: Callable[[int], int], policy: ScreenPolicy, resolve: Resolve,
                 rendered: str = "") -> list[Diagnostic]:
    """Findings in one file's (or one rendered template's) expressions."""
    limits, found = policy.limits, []
    for call in calls(tokens):
        line = where(call.offset)
        here = _with_each(resolve, model, file, line)
        for index in policy.path_functions.get(call.name, ()):
            problem = index < len(call.args) and path_problem(
                call.args[index], here, policy.path_calls, template_variables=bool(rendered))
            if problem:
                found.append(_finding("host-path", f"{rendered}{call.name}() reads outside the "
                                      "configuration", problem, file, line))
        if not rendered:
            found += _templates(model, call, file, line, policy, here)
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


def _templates(model: TerraformModel, call: Call, file: str, line: int, policy: ScreenPolicy,
               resolve: Resolve) -> list[Diagnostic]:
    """What the template `templatestring()` or `templatefile()` renders would call.

    A rendered template may call `file()` and friends too (`$${file("/etc/passwd")}` in a
    local is such a call once rendered). templatestring's template is followed when it is a
    variable's default or a local's literal string, and refused otherwise; templatefile's is
    the candidate file it names (every file, when the screen cannot tell which).
    """
    def scan(text: str, what: str) -> list[Diagnostic]:
        return _expressions(model, file, tokenize(text, template=True), lambda _: line, policy,
                            resolve, rendered=f"{call.name}() renders {what}, where ")

    if call.name in policy.template_functions:
        index = policy.template_functions[call.name]
        argument = call.args[index] if index < len(call.args) else ()
        reference = reference_at(argument, 0) if len(argument) == 3 else None
        value = literal(resolve(*reference)) if reference else None
        if value is None or _INTERPOLATION.search(value):
            return [_finding("host-path", f"{call.name}() renders a template the screen cannot "
                             "read", "only a variable's default or a local's literal string "
                             "is followed", file, line)]
        return scan(decode(value), ".".join(reference or ()))
    if call.name != "templatefile" or not call.args:
        return []
    named = "".join(decode(t.text) for t in call.args[0] if t.kind == "text").lstrip("/")
    chosen = [named] if named in model.files else sorted(model.files)
    return [d for name in chosen for d in scan(model.files[name], name)]


def _cost(call: Call, limits: Mapping[str, int], resolve: Resolve) -> str:
    args = call.args
    if call.name == "range":
        numbers = [fold(arg, resolve) for arg in args]
        if all(n is not None for n in numbers) and numbers:
            length = _range_length([n for n in numbers if n is not None])
        else:
            length = max((n for n in numbers if n is not None), default=0.0)
        if abs(length) > limits["max_range"]:
            return f"range of {abs(length):g} elements (at most {limits['max_range']})"
    elif call.name == "pow" and len(args) == 2:
        if any(t.kind == "ident" and t.text == "pow" for t in args[1]):
            return "pow() in an exponent"
        exponent = fold(args[1], resolve)
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


def _resolved_texts(tokens: tuple[Token, ...], resolve: Resolve) -> Iterator[str]:
    for i, token in enumerate(tokens):
        if token.kind == "text":
            yield token.text
        reference = reference_at(tokens, i)
        value = literal(resolve(*reference)) if reference else None
        if value is not None:
            yield value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _with_each(resolve: Resolve, model: TerraformModel, file: str, line: int) -> Resolve:
    """`resolve`, with `each.*` the for_each of the block holding `line` (None: unknown)."""
    def each(kind: str, name: str) -> Any:
        if kind != "each":
            return resolve(kind, name)
        holder = next((b for b in model.blocks if b.file == file and b.start_line is not None
                       and b.end_line is not None and b.start_line <= line <= b.end_line), None)
        return written(model, holder, "for_each") if holder is not None else None
    return each


def _with_block_each(resolve: Resolve, model: TerraformModel, block: Block,
                     body: dict) -> Resolve:
    value = written(model, block, "for_each", body)
    return lambda kind, name: value if kind == "each" else resolve(kind, name)


def _duplicate_keys(model: TerraformModel) -> Iterator[Diagnostic]:
    """A key written twice in one object of a .tf.json file.

    Terraform reads every duplicate (two `"aws_instance"` keys are two sets of resources;
    two arguments are an error); Python's json, and so the model every stage reads, keeps the
    last. What the screen and terraform read would differ: refused rather than merged, since
    no JSON writer emits duplicate keys.
    """
    for name, text in sorted(model.files.items()):
        if not name.endswith(".tf.json"):
            continue
        repeated: list[str] = []

        def pairs(items: list[tuple[str, Any]], repeated: list[str] = repeated) -> dict:
            keys = [key for key, _ in items]
            repeated.extend(key for i, key in enumerate(keys) if key in keys[:i])
            return dict(items)
        try:
            json.loads(text, object_pairs_hook=pairs)
        except ValueError:
            continue
        for key in dict.fromkeys(repeated):
            written = [m.start() for m in re.finditer(re.escape(json.dumps(key)) + r"\s*:", text)]
            yield _finding("duplicate-key", f"key {key!r} is written twice in one JSON object",
                           "terraform reads both, the screen only one: write each key once",
                           name, line_of(text, written[1] if len(written) > 1 else 0))


def _resolver(model: TerraformModel) -> Resolve:
    """Look up a variable's default or a local's value, as written."""
    values: dict[tuple[str, str], Any] = {}
    for block in model.of_kind("variable"):
        if block.labels:
            values[("var", block.labels[0])] = written(model, block, "default")
    for block in model.of_kind("locals"):
        for name in block.body:
            values[("local", name)] = written(model, block, name)
    return lambda kind, name: values.get((kind, name))
