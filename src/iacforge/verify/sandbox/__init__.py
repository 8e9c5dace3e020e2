"""Where untrusted commands run: the bubblewrap sandbox (bwrap.py), the relay carried into it
(relay.py, run there as a script), child processes with bounds (process.py) and the scratch
workspaces they see (workspace.py)."""

from iacforge.verify.sandbox.bwrap import (
    Limits,
    Sandbox,
    SandboxUnavailable,
    probe,
    sandbox_problem,
    sandbox_runner,
)
from iacforge.verify.sandbox.process import ProcessResult, run_process
from iacforge.verify.sandbox.workspace import (
    UnsafePath,
    Workspace,
    private_dir,
    safe_relative,
    scratch_dir,
)

__all__ = [
    "Limits",
    "ProcessResult",
    "Sandbox",
    "SandboxUnavailable",
    "UnsafePath",
    "Workspace",
    "private_dir",
    "probe",
    "run_process",
    "safe_relative",
    "sandbox_problem",
    "sandbox_runner",
    "scratch_dir",
]
