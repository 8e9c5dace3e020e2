"""The sandbox on this machine: what a command inside can see, write, reach, use and leave."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from iacforge.config import Settings
from iacforge.verify.sandbox import bwrap as sandbox
from iacforge.verify.sandbox.bwrap import (
    Limits,
    Sandbox,
    SandboxUnavailable,
    loopback_ports,
    sandbox_problem,
    sandbox_runner,
    sandbox_uid,
)
from iacforge.verify.sandbox.process import run_process
from iacforge.verify.sandbox.relay import Bridge

ROOT = os.geteuid() == 0
PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}

pytestmark = pytest.mark.skipif(sandbox.probe() is not None, reason=str(sandbox.probe()))


@pytest.fixture
def box() -> Sandbox:
    return Sandbox(limits=Limits(memory_bytes=1 << 30, file_bytes=1 << 20, processes=48))


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def sh(box: Sandbox, work: Path, script: str, *, env: dict | None = None,
       timeout: float = 30):
    return box.run(["sh", "-c", script], cwd=work, env=env or ENV, timeout=timeout)


def py(box: Sandbox, work: Path, code: str, *, env: dict | None = None, timeout: float = 30):
    return box.run([PYTHON, "-I", "-c", code], cwd=work, env=env or ENV, timeout=timeout)


class Listener:
    """A loopback TCP server on the host that counts connections and echoes one line."""

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
            with conn:
                conn.sendall(b"hello from the host\n")

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def listener():
    server = Listener()
    yield server
    server.close()


def test_the_command_line_isolates_everything(box, work):
    argv = box.command(["terraform", "plan"], cwd=work, uid=sandbox_uid(work) if ROOT else None)
    assert argv[0].endswith("bwrap")
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent"):
        assert flag in argv
    outer = argv[:argv.index("--")]  # as root, an inner bwrap binds the outer view
    binds = [outer[i + 1] for i, a in enumerate(outer) if a == "--bind"]
    assert binds == [str(work)]  # the only writable host path
    assert argv[argv.index("prlimit") + 1:][-3:] == ["--", "terraform", "plan"]
    assert "--nproc=48" in argv and "--core=0" in argv
    assert ("setpriv" in argv) == ROOT
    assert ("--disable-userns" in argv) == (box.nested or not ROOT)


def test_no_command_can_create_a_user_namespace(box, work):
    out = sh(box, work, "unshare -U true && echo created || echo refused")
    assert out.stdout.split()[-1:] == ["refused"], out.stdout + out.stderr
    if ROOT and not box.nested:  # only where the kernel gives unprivileged users none
        assert not sandbox.nests(box.bwrap)


def test_the_sandbox_keeps_its_safe_devices_usable(box, work):
    """The nested bwrap once mounted / nodev: /dev/null refused, every local-exec failed."""
    out = sh(box, work, "echo x > /dev/null && head -c 4 /dev/zero | wc -c")
    assert out.returncode == 0 and out.stdout.split() == ["4"], out.stdout + out.stderr


def test_only_loopback_emulator_endpoints_are_relayed():
    env = {"AWS_ENDPOINT_URL": "http://127.0.0.1:4566", "AWS_ENDPOINT_URL_S3":
           "http://localhost:4567/", "AWS_ENDPOINT_URL_STS": "https://sts.amazonaws.com",
           "OTHER": "http://127.0.0.1:9999"}
    assert loopback_ports(env) == [4566, 4567]


def test_a_workspace_keeps_one_unprivileged_uid(tmp_path):
    uid = sandbox_uid(tmp_path)
    assert uid == sandbox_uid(tmp_path) != sandbox_uid(tmp_path / "other")
    assert uid >= sandbox.UID_BASE


def test_only_the_workspace_is_writable_and_the_host_tmp_is_not_shared(box, work, tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("untouched")
    out = sh(box, work, f"echo inside > ok.txt; echo x > {outside}; echo x > /usr/x; "
                        f"echo scratch > /tmp/scratch-{work.name}; ls {tmp_path}")
    assert "Read-only file system" in out.stderr
    assert (work / "ok.txt").read_text() == "inside\n"
    assert outside.read_text() == "untouched"
    assert not Path(f"/tmp/scratch-{work.name}").exists()
    assert out.stdout.split() == ["work"]  # the directory above holds only the workspace


def test_host_files_secrets_and_home_are_invisible(box, work, tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".aws").mkdir(parents=True)
    (home / ".aws/credentials").write_text("aws_secret_access_key = HOSTSECRET\n")
    (home / ".terraformrc").write_text('plugin_cache_dir = "/nowhere"\n')
    monkeypatch.setenv("HOME", str(home))
    out = sh(box, work, f"cat {home}/.aws/credentials {home}/.terraformrc /etc/passwd "
                        "/etc/shadow /root/.bash_history; ls /home /root; ls /")
    assert "HOSTSECRET" not in out.stdout + out.stderr
    assert "No such file or directory" in out.stderr
    # what remains of the host: /usr and its links, and what bwrap makes (dev, proc, tmp, …)
    assert set(out.stdout.split()) <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32",
                                       "proc", "run", "sbin", "tmp", "usr"}


def test_the_environment_is_exactly_what_the_caller_gave(box, work, monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "HOSTSECRET")
    monkeypatch.setenv("GITHUB_TOKEN", "HOSTSECRET")
    out = box.run(["/usr/bin/env"], cwd=work, env={**ENV, "HOME": str(work)}, timeout=30)
    env = dict(line.split("=", 1) for line in out.stdout.splitlines())
    assert env == {**ENV, "HOME": str(work), "PWD": str(work)}


def test_no_connection_leaves_the_sandbox(box, work, listener):
    code = ("import socket\n"
            f"for host in ('127.0.0.1', '10.0.2.2', '1.1.1.1'):\n"
            "    try:\n"
            f"        socket.create_connection((host, {listener.port}), timeout=2)\n"
            "        print('connected', host)\n"
            "    except OSError as exc:\n"
            "        print('refused', host, exc.errno)\n")
    out = py(box, work, code)
    assert out.stdout.count("refused") == 3, out.stdout + out.stderr
    assert listener.accepted == 0


def test_the_emulator_port_and_nothing_else_is_relayed(box, work, listener):
    other = Listener()
    try:
        code = ("import socket\n"
                f"print(socket.create_connection(('127.0.0.1', {listener.port})).recv(64))\n"
                "try:\n"
                f"    socket.create_connection(('127.0.0.1', {other.port}), timeout=2)\n"
                "except OSError:\n"
                "    print('other port refused')\n")
        env = {**ENV, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{listener.port}"}
        out = py(box, work, code, env=env)
    finally:
        other.close()
    assert "hello from the host" in out.stdout, out.stderr
    assert "other port refused" in out.stdout
    assert (listener.accepted, other.accepted) == (1, 0)


def test_memory_file_size_and_process_limits_hold(box, work):
    out = py(box, work, "x = bytearray(2 << 30)")
    assert out.returncode != 0 and "MemoryError" in out.stderr
    out = sh(box, work, "head -c 4000000 /dev/zero > big")
    assert out.returncode != 0
    assert (work / "big").stat().st_size <= 1 << 20
    out = py(box, work, "import os, time\nn = 0\nfor _ in range(200):\n    try:\n"
                        "        pid = os.fork()\n    except OSError:\n        break\n"
                        "    if pid == 0:\n        time.sleep(5)\n        os._exit(0)\n"
                        "    n += 1\nprint(n)\n", timeout=20)
    assert 0 < int(out.stdout) < 48


def test_a_runaway_command_ends_at_its_timeout_with_no_process_left(box, work):
    marker = f"iacforge-runaway-{work.parent.name}"
    start = time.monotonic()
    out = sh(box, work, f"{PYTHON} -c 'import time; time.sleep(300)' {marker} & "
                        f"{PYTHON} -c 'import time; time.sleep(300)' {marker}", timeout=2)
    assert out.timed_out and time.monotonic() - start < 10
    assert _processes_with(marker, within=5) == []


def _processes_with(marker: str, within: float) -> list[int]:
    deadline = time.monotonic() + within
    while True:
        found = []
        for proc in Path("/proc").iterdir():
            try:
                if proc.name.isdigit() and marker.encode() in (proc / "cmdline").read_bytes():
                    state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                    if state not in ("Z", "X"):
                        found.append(int(proc.name))
            except OSError:
                continue
        if not found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


@pytest.mark.skipif(not ROOT, reason="runs as root to show the drop to an unprivileged uid")
def test_as_root_the_command_runs_as_an_unprivileged_uid_without_capabilities(box, work):
    out = sh(box, work, "id -u; grep -E '^Cap(Eff|Prm|Bnd)' /proc/self/status; touch mine")
    lines = out.stdout.split("\n")
    assert int(lines[0]) == sandbox_uid(work.resolve())
    assert all(line.split()[1] == "0000000000000000" for line in lines[1:4])
    assert (work / "mine").stat().st_uid == sandbox_uid(work.resolve())


@pytest.mark.skipif(not ROOT or not shutil.which("setpriv"), reason="needs root to become nobody")
def test_as_another_user_the_sandbox_uses_a_user_namespace():
    tmp_path = Path(tempfile.mkdtemp(prefix="iacforge-nobody-"))  # a path nobody can reach
    package = tmp_path / "pkg/iacforge"
    src = Path(sandbox.__file__).parents[2]
    (package / "verify/sandbox").mkdir(parents=True)
    for name in ("config.py", "errors.py", "formal.py", "verify/sandbox/__init__.py",
                 "verify/sandbox/bwrap.py", "verify/sandbox/relay.py",
                 "verify/sandbox/process.py", "verify/sandbox/workspace.py"):
        shutil.copy(src / name, package / name)
    (package / "__init__.py").touch()
    (package / "verify/__init__.py").touch()
    code = ("import os, tempfile; from pathlib import Path\n"
            "from iacforge.verify.sandbox.bwrap import Sandbox, probe\n"
            "assert probe() is None, probe()\n"
            "out = Sandbox().run(['sh', '-c', 'id -u; touch x; unshare -U true || echo nested'],"
            " cwd=Path(tempfile.mkdtemp(dir=os.environ['HOME'])),"
            " env={'PATH': '/usr/bin:/bin'}, timeout=30)\n"
            "print(out.stdout, out.stderr)\n")
    (tmp_path / "home").mkdir()
    subprocess.run(["chmod", "-R", "a+rX", str(tmp_path)], check=True)
    os.chown(tmp_path / "home", 65534, 65534)
    done = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           PYTHON, "-I", "-c", f"import sys; sys.path.insert(0, "
                           f"{str(package.parent)!r})\n" + code],
                          env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path / "home")},
                          capture_output=True, text=True, timeout=60, check=False)
    shutil.rmtree(tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["65534", "nested"]


def test_the_bridge_carries_a_unix_socket_to_a_loopback_port(listener):
    with Bridge(listener.port) as bridge:
        client = socket.socket(socket.AF_UNIX)
        client.connect(bridge.path)
        assert client.recv(64) == b"hello from the host\n"
        client.close()
    assert not Path(bridge.path).exists()


@pytest.fixture
def no_bwrap(monkeypatch, tmp_path):
    """A PATH without bubblewrap, and a fresh probe before and after."""
    sandbox.probe.cache_clear()
    monkeypatch.setenv("PATH", str(tmp_path))
    yield
    monkeypatch.undo()
    sandbox.probe.cache_clear()


def test_without_bubblewrap_terraform_is_refused_unless_allowed(no_bwrap):
    problem = sandbox_problem(Settings())
    assert problem is not None and "bubblewrap" in problem and "--allow-unsandboxed" in problem
    with pytest.raises(SandboxUnavailable, match="bubblewrap"):
        sandbox_runner(Settings(), readonly=())
    assert sandbox_problem(Settings(allow_unsandboxed=True)) is None
    assert sandbox_runner(Settings(allow_unsandboxed=True), readonly=()) is run_process
