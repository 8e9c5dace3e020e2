"""Terraform: run terraform commands on a workspace against the offline provider mirror.

No per-candidate `terraform init`: a base directory is prepared once per (terraform version,
mirror) with a lock file and a `.terraform/providers` tree that links straight into the
mirror (zero copies of the 700 MB provider), and every workspace links to it.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Any

from iacforge.config import Settings
from iacforge.errors import SetupError
from iacforge.verify.sandbox.bwrap import sandbox_runner
from iacforge.verify.sandbox.process import ProcessResult, run_process

_AWS = Path("registry.terraform.io/hashicorp/aws")
Runner = Callable[..., ProcessResult]


class Terraform:
    """A terraform binary bound to the offline mirror, with a shared provider installation."""

    def __init__(self, settings: Settings, runner: Runner | None = None) -> None:
        self.settings = settings
        self.binary = settings.terraform_path()
        self.mirror = settings.mirror_path()
        #: Runs candidate commands; by default in the sandbox (verify/sandbox/bwrap.py).
        self.runner: Runner = runner or self._sandboxed

    @cached_property
    def version(self) -> str:
        out = run_process([self.binary, "version", "-json"], cwd=Path("/"),
                          env=self._base_env(Path("/tmp")), timeout=30)
        try:
            return json.loads(out.stdout)["terraform_version"]
        except (ValueError, KeyError):
            raise SetupError(f"cannot read the version of {self.binary}: {out.stderr}") from None

    @cached_property
    def platform(self) -> str:
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
        return f"{os.uname().sysname.lower()}_{arch}"

    @cached_property
    def aws_version(self) -> str:
        """The newest hashicorp/aws version the mirror holds for this platform."""
        versions = [p.parent.name for p in (self.mirror / _AWS).glob(f"*/{self.platform}")]
        if not versions:
            raise SetupError(f"the mirror {self.mirror} has no hashicorp/aws for {self.platform}")
        return max(versions, key=lambda v: tuple(int(x) for x in v.split(".") if x.isdigit()))

    @cached_property
    def base(self) -> Path:
        """The prepared directory holding the CLI config, lock file and provider links."""
        key = hashlib.sha256(f"{self.version}|{self.mirror}|{self.aws_version}".encode())
        base = Path(self.settings.cache_dir) / "terraform" / key.hexdigest()[:16]
        base.mkdir(parents=True, exist_ok=True)
        with open(base / ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not (base / ".terraform.lock.hcl").is_file():
                self._prepare_base(base)
        return base

    def _prepare_base(self, base: Path) -> None:
        (base / "cli.tfrc").write_text(
            "provider_installation {\n"
            f'  filesystem_mirror {{\n    path = "{self.mirror}"\n  }}\n'
            "}\n"
        )
        (base / "main.tf").write_text(
            'terraform {\n  required_providers {\n'
            f'    aws = {{ source = "hashicorp/aws", version = "{self.aws_version}" }}\n'
            "  }\n}\n"
        )
        out = run_process(
            [self.binary, "providers", "lock", f"-fs-mirror={self.mirror}",
             f"-platform={self.platform}", "-no-color"],
            cwd=base, env=self._base_env(base, base / "cli.tfrc"), timeout=300,
        )
        if out.returncode != 0:
            raise SetupError(f"terraform could not lock the mirrored provider:\n{out.stderr}")
        target = base / ".terraform/providers" / _AWS / self.aws_version / self.platform
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            target.symlink_to(self.mirror / _AWS / self.aws_version / self.platform)
        tmp = base / ".terraform.lock.hcl.tmp"
        shutil.copy(base / ".terraform.lock.hcl", tmp)
        os.replace(tmp, base / ".terraform.lock.hcl")

    def _base_env(self, home: Path, cli_config: Path | None = None) -> dict[str, str]:
        env = {
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": str(home),
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_INPUT": "0",
            "LANG": "C.UTF-8",
        }
        if cli_config is not None:
            env["TF_CLI_CONFIG_FILE"] = str(cli_config)
        return env

    def link(self, workdir: Path) -> None:
        """Give `workdir` the shared provider installation, so no init is needed."""
        base = self.base
        (workdir / ".terraform").mkdir(exist_ok=True)
        providers = workdir / ".terraform/providers"
        if not providers.exists():
            providers.symlink_to(base / ".terraform/providers")
        shutil.copy(base / ".terraform.lock.hcl", workdir / ".terraform.lock.hcl")

    def run(self, args: list[str], workdir: Path, *, env: dict[str, str] | None = None,
            timeout: float | None = None) -> ProcessResult:
        """Run `terraform <args>` in `workdir` with a clean environment plus `env`."""
        full_env = self._base_env(workdir / ".home", self.base / "cli.tfrc") | (env or {})
        (workdir / ".home").mkdir(exist_ok=True)
        return self.runner([self.binary, *args], cwd=workdir, env=full_env,
                           timeout=timeout or self.settings.timeout)

    def _sandboxed(self, argv: list[str], **kwargs: Any) -> ProcessResult:
        return self.sandbox(argv, **kwargs)

    @cached_property
    def sandbox(self) -> Runner:
        """The sandbox, seeing terraform, the provider base and the mirror read-only."""
        binary = Path(self.binary)
        return sandbox_runner(self.settings, readonly=(
            binary.parent, binary.resolve().parent, self.base, self.mirror))
