"""Settings: where terraform and the offline provider mirror are, caches, workers, timeouts.

Every field can be set from the environment (`IACFORGE_<FIELD>` in upper case) or in code.
The provider mirror is discovered, in order: the setting / `IACFORGE_PROVIDER_MIRROR`, the
`filesystem_mirror` of the CLI config named by `TF_CLI_CONFIG_FILE`, then the usual implied
local mirror directories. Nothing is ever downloaded.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field, fields
from pathlib import Path

from iacforge.errors import ConfigError, SetupError
from iacforge.formal import parse_fail_on

#: Places Terraform itself looks for implied local mirrors, plus the usual system folders.
_MIRROR_CANDIDATES = (
    "~/.terraform.d/plugins",
    "~/.local/share/terraform/plugins",
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
    "/opt/tf-plugins",
    "/opt/terraform/plugins",
)
_AWS = "registry.terraform.io/hashicorp/aws"


def _env(name: str) -> str | None:
    return os.environ.get(f"IACFORGE_{name.upper()}") or None


def _convert(raw: str, kind: type, name: str) -> object:
    """An `IACFORGE_*` string as the field's type, or a ConfigError naming the variable."""
    if kind is bool:
        if raw.lower() not in ("1", "true", "yes", "0", "false", "no"):
            raise ConfigError(f"IACFORGE_{name.upper()}={raw!r}: expected true or false")
        return raw.lower() in ("1", "true", "yes")
    if kind in (int, float):
        try:
            return kind(raw)
        except ValueError:
            raise ConfigError(f"IACFORGE_{name.upper()}={raw!r}: expected a number") from None
    if kind is tuple:
        try:
            return parse_fail_on(raw)
        except ConfigError as exc:
            raise ConfigError(f"IACFORGE_{name.upper()}={raw!r}: {exc}") from None
    return raw


@dataclass
class Settings:
    """Run-time settings. `Settings.from_env()` reads `IACFORGE_*` overrides."""

    terraform_bin: str = "terraform"
    provider_mirror: str | None = None
    cache_dir: str = field(default_factory=lambda: str(Path("~/.cache/iacforge").expanduser()))
    workers: int = field(default_factory=lambda: max(1, os.cpu_count() or 1))
    #: Wall-clock limit for one terraform command, in seconds.
    timeout: float = 120.0
    #: The AWS region a candidate plans in when its provider block names none.
    region: str = "us-east-1"
    #: Largest candidate accepted, in bytes (all files together).
    max_bytes: int = 2_000_000
    #: Run terraform without the sandbox when this machine cannot provide one (unsafe).
    allow_unsandboxed: bool = False
    #: A JSON screen policy replacing the packaged one (verify/screen/policy.json).
    screen_policy: str | None = None
    #: Advisory stages (security, lint) whose failure fails the verdict too; comma-separated
    #: in the environment. By default only the correctness stages decide it.
    fail_on: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        self.fail_on = parse_fail_on(self.fail_on)

    @classmethod
    def from_env(cls, **overrides: object) -> Settings:
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = _env(f.name)
            if raw is None:
                continue
            values[f.name] = _convert(raw, type(getattr(cls(), f.name)), f.name)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

    def terraform_path(self) -> str:
        """Absolute path of the terraform binary, or a SetupError saying how to fix it."""
        found = shutil.which(self.terraform_bin)
        if not found:
            raise SetupError(
                f"terraform binary {self.terraform_bin!r} not found on PATH; install Terraform "
                "or set IACFORGE_TERRAFORM_BIN"
            )
        return found

    def mirror_path(self) -> Path:
        """The filesystem mirror holding hashicorp/aws, or a SetupError naming where we looked."""
        tried: list[str] = []
        for candidate in self._mirror_candidates():
            path = Path(candidate).expanduser()
            tried.append(str(path))
            if (path / _AWS).is_dir():
                return path
        raise SetupError(
            "no offline provider mirror with hashicorp/aws found. Set IACFORGE_PROVIDER_MIRROR "
            "to a directory laid out as "
            "<dir>/registry.terraform.io/hashicorp/aws/<version>/<os_arch>/. "
            "Looked in: " + ", ".join(tried)
        )

    def _mirror_candidates(self) -> list[str]:
        if self.provider_mirror:
            return [self.provider_mirror]
        found = []
        cli_config = os.environ.get("TF_CLI_CONFIG_FILE")
        if cli_config and Path(cli_config).is_file():
            text = Path(cli_config).read_text(errors="replace")
            found += re.findall(r'filesystem_mirror\s*{[^}]*?path\s*=\s*"([^"]+)"', text, re.S)
        return found + list(_MIRROR_CANDIDATES)
