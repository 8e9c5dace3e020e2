"""Terraform and what it talks to: the CLI runner (runner.py), its diagnostics (diagnostics.py),
the offline provider check (offline.py) and the moto AWS emulator (emulator.py, amis.json,
moto_guard.py, run as a script)."""

from iacforge.verify.terraform.diagnostics import fallback, from_json_stream, from_terraform
from iacforge.verify.terraform.emulator import (
    MotoServer,
    account_credentials,
    aws_env,
    new_account_id,
    shared_server,
)
from iacforge.verify.terraform.offline import offline_gaps, used_providers
from iacforge.verify.terraform.runner import Terraform

__all__ = [
    "MotoServer",
    "Terraform",
    "account_credentials",
    "aws_env",
    "fallback",
    "from_json_stream",
    "from_terraform",
    "new_account_id",
    "offline_gaps",
    "shared_server",
    "used_providers",
]
