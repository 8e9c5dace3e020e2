"""Normalise a candidate for an offline, credential-free terraform run.

LLM and benchmark code is written for a real account: provider `profile`, `assume_role`,
shared credential files, hard-coded endpoints, `required_version` pins, provider version
constraints the offline mirror cannot meet, remote backends. We remove exactly those items
(blanking their bytes so every other line keeps its number) and say what we changed in a
diagnostic. Credentials and endpoints then come only from the environment the verifier sets.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from iacforge.diagnostics import Diagnostic
from iacforge.hcl.scan import Item, blank, body_items, brace_of, top_level_blocks
from iacforge.hcl.versions import allows

#: Provider arguments that name credentials, accounts or endpoints of a real cloud.
PROVIDER_ACCOUNT_ARGS = frozenset({
    "profile", "shared_credentials_file", "shared_credentials_files", "shared_config_files",
    "access_key", "secret_key", "token", "assume_role", "assume_role_with_web_identity",
    "endpoints", "custom_ca_bundle", "sts_region", "ec2_metadata_service_endpoint",
    "ec2_metadata_service_endpoint_mode", "http_proxy", "https_proxy", "no_proxy", "insecure",
    "skip_credentials_validation", "skip_requesting_account_id", "skip_metadata_api_check",
    "skip_region_validation", "allowed_account_ids", "forbidden_account_ids",
})


@dataclass(frozen=True)
class Normalised:
    files: dict[str, str]
    diagnostics: tuple[Diagnostic, ...]


def normalise(files: dict[str, str], *, terraform_version: str, aws_version: str) -> Normalised:
    """Return the files to run terraform on, and what was changed in them."""
    out: dict[str, str] = {}
    notes: list[Diagnostic] = []
    for name, text in files.items():
        if name.endswith(".tf.json"):
            out[name] = _normalise_json(name, text, terraform_version, aws_version, notes)
        else:
            out[name] = _normalise_hcl(name, text, terraform_version, aws_version, notes)
    return Normalised(out, tuple(notes))


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _normalise_hcl(name: str, text: str, tf: str, aws: str, notes: list[Diagnostic]) -> str:
    for block in reversed(top_level_blocks(text)):
        if block.kind != "block":
            continue
        if block.name == "provider" and block.labels[:1] == ("aws",):
            text = _strip_provider(name, text, block, aws, notes)
        elif block.name == "terraform":
            text = _strip_terraform(name, text, block, tf, aws, notes)
    return text


def _strip_provider(name: str, text: str, block: Item, aws: str,
                    notes: list[Diagnostic]) -> str:
    removed = []
    for item in reversed(body_items(text, brace_of(text, block))):
        if item.name == "version":  # legacy constraint; left in, it contradicts our lock file
            constraint = _string_value(text[item.start:item.end])
            text = blank(text, item.start, item.end)
            _add(notes, _aws_version_note(name, constraint, aws, _line(text, item.start)))
        elif item.name in PROVIDER_ACCOUNT_ARGS:
            text = blank(text, item.start, item.end)
            removed.append(item.name)
    if removed:
        notes.append(_account_note(name, removed, _line(text, block.start)))
    return text


def _account_note(name: str, removed: list[str], line: int | None) -> Diagnostic:
    return Diagnostic(
        "info", "Provider account settings ignored",
        "removed " + ", ".join(sorted(set(removed))) + ": the verifier plans with no "
        "credentials against a local AWS emulator",
        name, line, address="provider.aws", rule_id="iacforge/normalise",
    )


def _required_version_note(name: str, constraint: str | None, tf: str,
                           line: int | None) -> Diagnostic | None:
    if constraint is None or allows(constraint, tf) is not False:
        return None
    return Diagnostic(
        "warning", "required_version ignored",
        f"required_version {constraint!r} excludes the installed Terraform {tf}; "
        f"verified with {tf}", name, line, rule_id="iacforge/normalise")


def _aws_version_note(name: str, constraint: str | None, aws: str,
                      line: int | None) -> Diagnostic | None:
    if constraint is None or allows(constraint, aws) is not False:
        return None
    return Diagnostic(
        "warning", "aws provider version constraint cannot be met offline",
        f"constraint {constraint!r} excludes the mirrored hashicorp/aws {aws}; "
        f"verified with {aws}", name, line, rule_id="iacforge/normalise")


def _backend_note(name: str, kind: str, line: int | None) -> Diagnostic:
    return Diagnostic(
        "warning", f"{kind} ignored",
        "remote state is never contacted; the verifier uses local state in a scratch "
        "workspace", name, line, rule_id="iacforge/normalise")


def _add(notes: list[Diagnostic], note: Diagnostic | None) -> None:
    if note is not None:
        notes.append(note)


def _strip_terraform(name: str, text: str, block: Item, tf: str, aws: str,
                     notes: list[Diagnostic]) -> str:
    for item in reversed(body_items(text, brace_of(text, block))):
        line = _line(text, item.start)
        if item.name == "required_version":
            constraint = _string_value(text[item.start:item.end])
            text = blank(text, item.start, item.end)
            _add(notes, _required_version_note(name, constraint, tf, line))
        elif item.name in ("backend", "cloud"):
            text = blank(text, item.start, item.end)
            kind = f'backend "{item.labels[0]}"' if item.labels else item.name
            notes.append(_backend_note(name, kind, line))
        elif item.name == "required_providers" and item.kind == "block":
            text = _strip_aws_version(name, text, item, aws, notes)
    return text


def _strip_aws_version(name: str, text: str, block: Item, aws: str,
                       notes: list[Diagnostic]) -> str:
    for item in body_items(text, brace_of(text, block)):
        if item.name != "aws":
            continue
        original = text[item.start:item.end]
        constraint = _version_in(original)
        replacement = 'aws = { source = "hashicorp/aws" }'
        text = text[:item.start] + replacement + "\n" * original.count("\n") + \
            " " * max(0, len(original) - len(replacement) - original.count("\n")) + text[item.end:]
        _add(notes, _aws_version_note(name, constraint, aws, _line(text, item.start)))
    return text


def _string_value(attribute: str) -> str | None:
    _, _, value = attribute.partition("=")
    value = value.strip()
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == '"' else None


def _version_in(expression: str) -> str | None:
    """The version constraint in `aws = "~> 5.0"` or `aws = { version = "~> 5.0" }`."""
    _, _, value = expression.partition("=")
    value = value.strip()
    if value.startswith('"'):
        return _string_value("x=" + value)
    for line in value.strip("{} \n").replace(",", "\n").splitlines():
        key, eq, rest = line.partition("=")
        if eq and key.strip() == "version":
            return _string_value("x=" + rest.strip())
    return None


def _normalise_json(name: str, text: str, tf: str, aws: str, notes: list[Diagnostic]) -> str:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError:
        return text  # parse already reported it
    if not isinstance(doc, dict):
        return text
    removed: list[str] = []
    changed = False
    for provider in _as_list(doc.get("provider")):
        for config in _as_list(provider.get("aws") if isinstance(provider, dict) else None):
            if not isinstance(config, dict):
                continue
            if "version" in config:
                _add(notes, _aws_version_note(name, _str(config.pop("version")), aws, None))
                changed = True
            for key in PROVIDER_ACCOUNT_ARGS & config.keys():
                del config[key]
                removed.append(key)
    if removed:
        notes.append(_account_note(name, removed, None))
        changed = True
    for terraform in _as_list(doc.get("terraform")):
        if not isinstance(terraform, dict):
            continue
        if "required_version" in terraform:
            constraint = _str(terraform.pop("required_version"))
            _add(notes, _required_version_note(name, constraint, tf, None))
            changed = True
        for key in ("backend", "cloud"):
            if key in terraform:
                value = terraform.pop(key)
                labels = list(value) if key == "backend" and isinstance(value, dict) else []
                notes.append(_backend_note(
                    name, f'backend "{labels[0]}"' if labels else key, None))
                changed = True
        for providers in _as_list(terraform.get("required_providers")):
            if isinstance(providers, dict) and "aws" in providers:
                entry = providers["aws"]
                constraint = _str(entry.get("version") if isinstance(entry, dict) else entry)
                _add(notes, _aws_version_note(name, constraint, aws, None))
                providers["aws"] = {"source": "hashicorp/aws"}
                changed = True
    return json.dumps(doc, indent=2) if changed else text


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]
