"""What the hostile-candidate tests share: canaries, a loopback listener, and terraform in the
sandbox with the screen out of the way.

Each test shows two walls. The screen refuses the candidate through `iacforge verify`'s own
path. Then the same candidate runs anyway, in the sandbox, with the screen bypassed (a policy
that allows everything, or terraform called directly), and the test observes that nothing
escaped: the canary outside the workspace is unread and unchanged, the listener on the host's
loopback saw no connection, no host secret shows up in any output.
"""

from __future__ import annotations

import json
import secrets
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.errors import SetupError
from iacforge.verify.sandbox import bwrap as sandbox
from iacforge.verify.sandbox.process import ProcessResult
from iacforge.verify.sandbox.workspace import Workspace
from iacforge.verify.screen.policy import PACKAGED
from iacforge.verify.terraform.runner import Terraform

FIXTURES = Path(__file__).parents[1] / "fixtures" / "hostile"
#: Where fixtures point for "a host path outside the workspace", and their listener port.
CANARY_DIR = "/canary"
PORT = "47999"
#: A screen policy that lets everything through, to show the sandbox alone contains it.
_PACKAGED = json.loads(PACKAGED.read_text())
PERMISSIVE = {
    "providers": {"allow": [], "deny": {}, "others": "pass"},
    "types": {"deny": {}},
    "arguments": {"deny": {}},
    "provisioners": {"allow": ["local-exec", "remote-exec", "file"]},
    "module_sources": {"allow": ["local", "escaping", "absolute", "registry", "git", "http",
                                 "s3", "gcs", "unknown"]},
    "path_functions": {name: [] for name in _PACKAGED["path_functions"]},
    "path_arguments": {name: [] for name in _PACKAGED["path_arguments"]},
    "template_functions": {},
    "limits": {name: 10**12 for name in _PACKAGED["limits"]},
}


@pytest.fixture(scope="session", autouse=True)
def _sandboxed() -> None:
    problem = sandbox.probe()
    if problem:
        pytest.skip(f"no sandbox on this machine: {problem}")


@dataclass
class Canary:
    """A directory outside every workspace holding a secret file, watched for any change."""

    dir: Path
    secret: str

    @property
    def file(self) -> Path:
        return self.dir / "secret.txt"

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in self.dir.iterdir()}


@pytest.fixture
def canary(tmp_path: Path) -> Iterator[Canary]:
    found = Canary(tmp_path / "canary", f"CANARY-{secrets.token_hex(8)}")
    found.dir.mkdir()
    found.file.write_text(f"aws_secret_access_key = {found.secret}\n")
    (found.dir / "terraform.tfstate").write_text(
        '{"version": 4, "terraform_version": "1.11.0", "serial": 1, "lineage": "x", '
        f'"outputs": {{"secret": {{"value": "{found.secret}", "type": "string"}}}}, '
        '"resources": []}\n')
    before = found.snapshot()
    yield found
    assert found.snapshot() == before, "something outside the sandbox changed the canary"


class Listener:
    """A TCP server on the host's 127.0.0.1 that counts the connections it accepts."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted += 1
            conn.close()


@pytest.fixture
def listener() -> Iterator[Listener]:
    server = Listener()
    yield server
    server.sock.close()


def fixture_files(name: str, canary: Canary | None = None,
                  listener: Listener | None = None) -> dict[str, str]:
    """A hostile fixture's .tf files, pointed at this test's canary and listener."""
    files = {}
    for path in sorted((FIXTURES / name).glob("*.tf")):
        text = path.read_text()
        if canary is not None:
            text = text.replace(CANARY_DIR, str(canary.dir))
        if listener is not None:
            text = text.replace(PORT, str(listener.port))
        files[path.name] = text
    return files


def candidate(name: str, canary: Canary | None = None,
              listener: Listener | None = None) -> Candidate:
    return Candidate(fixture_files(name, canary, listener), source=f"hostile/{name}")


@pytest.fixture(scope="session")
def terraform() -> Terraform:
    try:
        return Terraform(Settings())
    except SetupError as exc:
        pytest.skip(str(exc))


def run_terraform(terraform: Terraform, files: dict[str, str], *args: str,
                  parent: Path | None = None, timeout: float = 120,
                  env: dict[str, str] | None = None) -> tuple[ProcessResult, Workspace]:
    """`terraform <args>` on `files` as they are (no screen, no normalising), sandboxed.

    The caller closes the returned workspace (after looking into it).
    """
    workspace = Workspace(files, parent=str(parent) if parent else None)
    terraform.link(workspace.path)
    out = terraform.run(list(args), workspace.path, env=env, timeout=timeout)
    return out, workspace


def everything(out: ProcessResult, workspace: Workspace | None = None) -> str:
    """All a run printed, plus every readable file it left in its workspace."""
    text = out.stdout + out.stderr
    if workspace is not None:
        for path in workspace.path.rglob("*"):
            if path.is_file() and not path.is_symlink() and ".terraform" not in path.parts:
                text += path.read_bytes().decode("utf-8", "replace")
    return text
