"""Sandbox: run a candidate's terraform commands isolated from the host, with bubblewrap.

Every command runs under `bwrap` with:

- its own mount, pid, ipc, uts (and cgroup) namespaces, and its own network namespace holding
  only loopback, so no connection leaves it. The loopback emulator ports named in the
  command's environment (`AWS_ENDPOINT_URL*`) are carried in by a relay (relay.py), nothing
  else;
- a read-only view of /usr (with /bin, /lib… as the host lays them out), the loader cache and
  the paths the caller names (terraform, the provider base, the mirror); nothing else of the
  host: no /etc, /home, /root, ~/.aws, ~/.terraformrc, no sockets, no devices but /dev basics;
- the working directory as the only writable host path, and a fresh, size-bounded /tmp;
- the environment the caller hands in and nothing else (terraform/runner.py builds a clean one);
- no privilege: as root, a per-workspace uid with no capabilities (via `setpriv`), so that no
  root-owned file is readable even if it were visible and the process limit applies; as
  another user, that user in a user namespace. Either way the command may not create user
  namespaces of its own (`--disable-userns`; as root through a second, unprivileged bwrap
  inside the first, where this kernel lets unprivileged users have user namespaces at all:
  where it does not, the sandbox uid cannot make one either);
- rlimits set by `prlimit` (CPU seconds, address space, processes, file size, open files, no
  core dumps), and the wall-clock timeout of `run_process`, which kills bwrap's process group;
  `--die-with-parent` and the pid namespace then take every process of the sandbox with it.

`sandbox_runner(settings, readonly=...)` gives terraform/runner.py its runner: this sandbox, or,
when it cannot work on this machine, plain `run_process` only if `Settings.allow_unsandboxed`.
The AWS emulator runs in the same kind of sandbox (terraform/emulator.py), so that nothing a
candidate makes it do can reach an address of the candidate's choosing either.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from iacforge.config import Settings
from iacforge.errors import SetupError
from iacforge.verify.sandbox import relay
from iacforge.verify.sandbox.process import ProcessResult, run_process
from iacforge.verify.sandbox.workspace import scratch_dir

#: Sandbox uids used when iacforge runs as root: far above any real account.
UID_BASE = 1_900_000_000
_UID_SPAN = 1 << 20
#: Top-level host paths that are symlinks into /usr on merged-/usr systems, or real dirs.
_HOST_LAYOUT = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_LOADER_CACHE = "/etc/ld.so.cache"
_RUN = "/run/iacforge"
_MOUNTED = ("/usr", "/proc", "/dev", "/tmp")
_ENDPOINT = re.compile(r"^https?://(?:127\.0\.0\.1|localhost):(\d+)/?$")
_HELP = ("install the Debian package bubblewrap (scripts/setup does, as root), or pass "
         "--allow-unsandboxed (Settings.allow_unsandboxed) to run terraform without isolation")


class SandboxUnavailable(SetupError):
    """This machine cannot isolate terraform, and running it unisolated was not allowed."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of every process in the sandbox (rlimits, so per process)."""

    cpu_seconds: int | None = 600  # None: no CPU limit (a long-lived server)
    memory_bytes: int = 8 << 30  # address space; the AWS provider maps ~2 GB at start
    processes: int = 512  # threads count too; terraform and the provider run ~60
    file_bytes: int = 1 << 30
    open_files: int = 4096
    tmp_bytes: int = 64 << 20

    @classmethod
    def for_timeout(cls, timeout: float) -> Limits:
        """Defaults with a CPU budget of twice the wall-clock timeout (at least a minute)."""
        return cls(cpu_seconds=max(60, int(2 * timeout)))

    def prlimit(self) -> list[str]:
        cpu = "unlimited" if self.cpu_seconds is None else self.cpu_seconds
        return ["prlimit", f"--cpu={cpu}", f"--as={self.memory_bytes}",
                f"--nproc={self.processes}", f"--fsize={self.file_bytes}",
                f"--nofile={self.open_files}", "--core=0", "--"]


class Sandbox:
    """Runs commands under bubblewrap; `run` has `run_process`'s signature.

    >>> box = Sandbox(readonly=[Path("/opt/tf-plugins")])  # doctest: +SKIP
    >>> box.run(["terraform", "validate"], cwd=ws, env=env, timeout=60).returncode  # doctest: +SKIP
    0
    """

    def __init__(self, *, readonly: Iterable[Path] = (), limits: Limits | None = None,
                 bwrap: str = "bwrap", nested: bool | None = None) -> None:
        found = shutil.which(bwrap)
        if not found:
            raise SandboxUnavailable(f"bubblewrap ({bwrap!r}) is not on PATH; {_HELP}")
        self.bwrap = found
        self.readonly = tuple(dict.fromkeys(  # /usr is always there
            Path(p) for p in readonly if not Path(p).is_relative_to("/usr")))
        self.limits = limits or Limits()
        self.as_root = os.geteuid() == 0
        #: As root: a second, unprivileged bwrap that forbids user namespaces (see `nests`).
        self.nested = self.as_root and (nests(self.bwrap) if nested is None else nested)
        self.python = shutil.which("python3", path="/usr/bin:/bin") or \
            os.path.realpath(sys.executable)

    def run(self, argv: list[str], *, cwd: Path, env: dict[str, str], timeout: float,
            stdin: str | None = None) -> ProcessResult:
        """Run `argv` in the sandbox with `cwd` as its only writable host directory."""
        command = self.prepare(argv, cwd=cwd, env=env)
        return run_process(command, cwd=cwd, env=env, timeout=timeout, stdin=stdin)

    def prepare(self, argv: list[str], *, cwd: Path, env: Mapping[str, str]) -> list[str]:
        """The command line that runs `argv` sandboxed in `cwd` (handed to the sandbox uid)."""
        cwd = Path(os.path.abspath(cwd))  # as the caller names it (HOME is below it)
        sockets = {port: shared_bridge(port).path for port in loopback_ports(env)}
        uid = sandbox_uid(cwd) if self.as_root else None
        if uid is not None:
            _give(cwd, uid)
        return self.command(argv, cwd=cwd, sockets=sockets, uid=uid)

    def command(self, argv: Sequence[str], *, cwd: Path,
                sockets: Mapping[int, str] | None = None, uid: int | None = None) -> list[str]:
        """The full `bwrap ... -- [setpriv ...] prlimit ... [relay ...] argv` command line."""
        out = [self.bwrap, "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if self.as_root:  # only to drop to `uid` below; setpriv clears every capability
            out += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID",
                    "--cap-add", "CAP_SETPCAP"]
        else:
            out += _NO_USERNS
        out += ["--ro-bind", "/usr", "/usr", *_host_layout(), "--proc", "/proc", "--dev", "/dev",
                "--perms", "1777", "--size", str(self.limits.tmp_bytes), "--tmpfs", "/tmp"]
        sockets = sockets or {}
        readonly = [*self.readonly, *self._python_paths(sockets)]
        relay_file = Path(_RUN) / "relay.py"
        mounts = [(p, p) for p in readonly] + [(Path(s), Path(_RUN) / f"{port}.sock")
                                               for port, s in sockets.items()]
        if sockets:
            mounts.append((Path(relay.__file__), relay_file))
        for parent in _parents([dest for _, dest in mounts] + [cwd, Path(_LOADER_CACHE)]):
            out += ["--perms", "0755", "--dir", str(parent)]
        out += ["--ro-bind-try", _LOADER_CACHE, _LOADER_CACHE]
        for src, dest in mounts:
            out += ["--ro-bind", str(src), str(dest)]
        out += ["--bind", str(cwd.resolve()), str(cwd), "--chdir", str(cwd), "--"]
        if uid is not None:
            out += ["setpriv", f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
            if self.nested:
                out += nested_bwrap(self.bwrap)
        out += self.limits.prlimit()
        if sockets:
            out += [self.python, "-I", "-S", str(relay_file)]
            for port in sockets:
                out += [str(port), f"{_RUN}/{port}.sock"]
            out.append("--")
        return out + list(argv)

    def _python_paths(self, sockets: Mapping[int, str]) -> list[Path]:
        """What the relay's interpreter needs beyond /usr (nothing for a system python)."""
        if not sockets or self.python.startswith("/usr/"):
            return []
        return [Path(sys.base_prefix)]


_NO_USERNS = ["--unshare-user", "--disable-userns"]


def nested_bwrap(bwrap: str) -> list[str]:
    """The inner, unprivileged bwrap of the root sandbox: the same view, no user namespaces.

    `--dev-bind`: a plain `--bind` mounts it nodev, and /dev/null stops working.
    """
    return [bwrap, *_NO_USERNS, "--dev-bind", "/", "/", "--die-with-parent", "--"]


@functools.cache
def nests(bwrap: str) -> bool:
    """Whether, as root, an unprivileged bwrap can run inside the sandbox (tried once).

    It cannot where the kernel gives unprivileged users no user namespaces, and there the
    sandbox uid cannot create one either, so nothing is lost without it.
    """
    with tempfile.TemporaryDirectory(prefix="nest-", dir=scratch_dir()) as tmp:
        out = Sandbox(bwrap=bwrap, nested=True).run(
            ["true"], cwd=Path(tmp), env={"PATH": "/usr/bin:/bin"}, timeout=30)
    return out.returncode == 0


def loopback_ports(env: Mapping[str, str]) -> list[int]:
    """The ports of the loopback endpoints the command is told about (`AWS_ENDPOINT_URL*`)."""
    ports = set()
    for key, value in env.items():
        match = _ENDPOINT.match(value) if key.startswith("AWS_ENDPOINT_URL") else None
        if match:
            ports.add(int(match[1]))
    return sorted(ports)


def sandbox_uid(workdir: Path) -> int:
    """The unprivileged uid a workspace's commands run as (stable per workspace)."""
    digest = hashlib.sha256(str(workdir).encode()).digest()
    return UID_BASE + int.from_bytes(digest[:8], "big") % _UID_SPAN


def _give(directory: Path, uid: int) -> None:
    """Hand `directory` and everything below it to `uid`, never following a symlink."""
    os.lchown(directory, uid, uid)
    for root, dirs, files in os.walk(directory):
        for name in dirs + files:
            os.lchown(os.path.join(root, name), uid, uid)


def _host_layout() -> list[str]:
    out: list[str] = []
    for path in _HOST_LAYOUT:
        if os.path.islink(path):
            out += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            out += ["--ro-bind", path, path]
    return out


def _parents(paths: Iterable[Path]) -> list[Path]:
    """Directories to create (mode 0755) before mounting on `paths`: bwrap makes them 0700.

    Inside the fresh /tmp too, so that a workspace below it is reachable by its full path.
    """
    found: set[Path] = set()
    for path in paths:
        for parent in path.parents:
            if parent != Path("/") and not any(
                    parent == Path(m) or (m != "/tmp" and parent.is_relative_to(m))
                    for m in _MOUNTED):
                found.add(parent)
    return sorted(found, key=lambda p: len(p.parts))


_bridges: dict[tuple[int, int], relay.Bridge] = {}
_bridges_lock = threading.Lock()


def shared_bridge(port: int) -> relay.Bridge:
    """This process's bridge to 127.0.0.1:`port`, made on first use."""
    with _bridges_lock:
        key = (os.getpid(), port)
        if key not in _bridges:
            _bridges[key] = relay.Bridge(port, parent=str(scratch_dir()))
        return _bridges[key]


@functools.cache
def probe(bwrap: str = "bwrap") -> str | None:
    """None when the sandbox works on this machine, else why not (tried once per process)."""
    try:
        box = Sandbox(bwrap=bwrap)
    except SandboxUnavailable as exc:
        return str(exc)
    with tempfile.TemporaryDirectory(prefix="probe-", dir=scratch_dir()) as tmp:
        out = box.run(["true"], cwd=Path(tmp), env={"PATH": "/usr/bin:/bin"}, timeout=30)
    if out.returncode != 0:
        return (f"bubblewrap cannot create the sandbox here (exit {out.returncode}: "
                f"{out.stderr.strip()[-500:]}); {_HELP}")
    return None


def sandbox_problem(settings: Settings) -> str | None:
    """Why terraform may not run on this machine, or None (sandboxed, or allowed without)."""
    if settings.allow_unsandboxed:
        return None
    return probe()


def sandbox_runner(settings: Settings, *,
                   readonly: Iterable[Path]) -> Callable[..., ProcessResult]:
    """The runner for candidate commands: the sandbox, or run_process when allowed without."""
    problem = probe()
    if problem is None:
        return Sandbox(readonly=readonly, limits=Limits.for_timeout(settings.timeout)).run
    if settings.allow_unsandboxed:
        return run_process
    raise SandboxUnavailable(problem)
