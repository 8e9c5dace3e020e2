"""MotoServer: the AWS emulator on loopback that terraform plan (and apply) talk to.

Data sources such as `aws_ami`, `aws_availability_zones` and `aws_caller_identity` call AWS at
plan time; `aws_env()` points every AWS endpoint of a terraform process at a moto server on
127.0.0.1 instead. One server is shared per process (`shared_server()`); it is stopped at
interpreter exit and on SIGTERM/SIGINT, and the kernel kills it if we die any other way.

The server runs in the sandbox (sandbox/bwrap.py) where this machine has one: its network namespace
holds only loopback, and it listens on a unix socket, which a `relay.Gateway` makes the host's
loopback port. Whatever a candidate asks of it (an SNS subscription to an http endpoint, an
EventBridge API destination, a Lambda to invoke) it can reach no address at all, by
construction rather than by a list of refused forms. Each candidate run has an emulated
account of its own (`new_account_id`), so no run sees another's resources; and moto's control
API (`/moto-api/*`, which could dump every account) and its account-picking header answer only
requests that carry this server's token (`moto_guard.py`), which only the verifier holds.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import functools
import gzip
import importlib.util
import json
import os
import queue
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any
from xml.etree import ElementTree

from iacforge.errors import SetupError
from iacforge.verify.sandbox import bwrap, relay
from iacforge.verify.sandbox.workspace import scratch_dir
from iacforge.verify.terraform.moto_guard import CONTROL_HEADER, TOKEN_ENV

#: Our additions to moto's AMI catalogue (made-up ids, plausible names and dates).
CATALOGUE = Path(__file__).with_name("amis.json")
_HOST = "127.0.0.1"
_PATH = os.pathsep.join([os.path.dirname(sys.executable), "/usr/local/bin", "/usr/bin", "/bin"])
# Default AMIs in moto's catalogue carry no creation date, so moto would stamp them "now" and
# `most_recent = true` would prefer a 2017 image to ours; we date them from their names instead.
_NAME_DATE = re.compile(r"(20\d\d)\.?([01]\d)\.?([0-3]\d)")
_UNDATED = "2017-01-01T00:00:00.000Z"
_PR_SET_PDEATHSIG = 1
_PORT_ATTEMPTS = 3
#: moto's server behind the guard of its control API; run as a file in isolated mode (stdlib
#: and moto only), as the sandbox has no PYTHONPATH and the script's folder must not shadow.
_LAUNCHER = ["-I", str(Path(__file__).with_name("moto_guard.py"))]
#: The server's limits in the sandbox: no CPU budget (it lives as long as we do), many threads.
_LIMITS = bwrap.Limits(cpu_seconds=None, processes=4096)
# Requests to our own loopback server must never go through a host proxy (HTTP_PROXY & co.).
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class MotoServer:
    """A moto server process on a free loopback port, in its own process group.

    >>> with MotoServer() as moto:
    ...     env = aws_env(moto.endpoint, "us-east-1")  # hand to terraform, plus PATH and HOME
    """

    def __init__(self, *, startup_timeout: float = 30.0, grace: float = 5.0,
                 isolated: bool | None = None) -> None:
        self.startup_timeout = startup_timeout
        self.grace = grace
        #: Run in the sandbox; None: where this machine has one (else on the host's network).
        self.isolated = isolated
        self.port: int | None = None
        self._gateway: relay.Gateway | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._tmp: Path | None = None
        self._owner = os.getpid()
        #: Opens moto's control API (`/moto-api/*`) to the verifier, and to nobody else.
        self._token = secrets.token_urlsafe(32)
        #: Set to let the thread that spawned the server end (see `_spawn`).
        self._release = threading.Event()

    def __enter__(self) -> MotoServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def endpoint(self) -> str:
        """`http://127.0.0.1:PORT` of the running server."""
        if self.port is None:
            raise RuntimeError("MotoServer is not started")
        return f"http://{_HOST}:{self.port}"

    @property
    def pid(self) -> int | None:
        """Process id of the server (also its process group id), or None before start."""
        return self._proc.pid if self._proc is not None else None

    def alive(self) -> bool:
        """Whether the server process is running (it may still be starting up)."""
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> MotoServer:
        """Launch the server and wait until it answers; a SetupError (with its log) if it won't."""
        if self.alive():
            return self
        self.stop()
        self._owner = os.getpid()
        self._tmp = Path(tempfile.mkdtemp(prefix="moto-", dir=scratch_dir()))
        amis = self._tmp / "amis.json"
        amis.write_text(json.dumps(merged_catalogue()))
        isolated = self.isolated if self.isolated is not None else bwrap.probe() is None
        for _ in range(1 if isolated else _PORT_ATTEMPTS):
            if isolated:
                self._gateway = relay.Gateway(str(self._tmp / "moto.sock"))
                self.port = self._gateway.port
                # relative to the server's working directory (its scratch directory): a unix
                # socket's path may be at most 107 bytes, and a cache directory can be deep
                self._spawn(amis, self._sandboxed("unix://moto.sock"))
            else:
                self.port = _free_port()
                self._spawn(amis, [sys.executable, *_LAUNCHER, "-H", _HOST,
                                   "-p", str(self.port)])
            if self._wait_ready():
                return self
        log = self._log_tail()
        self.stop()
        raise SetupError(f"moto server found no free loopback port:\n{log}")

    def reset(self) -> None:
        """Drop every resource the server holds (moto's `/moto-api/reset`)."""
        try:
            self.control("/moto-api/reset", method="POST").close()
        except OSError as exc:  # URLError and HTTPError are OSErrors
            raise SetupError(f"could not reset the moto server at {self.endpoint}: {exc}") from exc

    def control(self, path: str, *, method: str = "GET", timeout: float = 30) -> Any:
        """The open response of moto's control API at `path`, asked with this server's token."""
        request = urllib.request.Request(f"{self.endpoint}{path}", method=method,
                                         headers={CONTROL_HEADER: self._token})
        return _OPENER.open(request, timeout=timeout)

    def stop(self) -> None:
        """Terminate the server's process group (SIGKILL after `grace` s) and remove its files.

        A no-op in a forked child: the server belongs to the process that started it.
        """
        if self._owner != os.getpid():
            return
        proc, self._proc = self._proc, None
        if proc is not None:
            _terminate_group(proc, self.grace)
        if self._gateway is not None:
            self._gateway.close()
            self._gateway = None
        self._release.set()
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None

    def _sandboxed(self, host: str) -> list[str]:
        """moto's command line in the sandbox: only loopback, this server's files writable."""
        assert self._tmp is not None
        (self._tmp / "moto.log").touch()
        box = bwrap.Sandbox(readonly=_python_paths(), limits=_LIMITS)
        argv = [sys.executable, *_LAUNCHER, "-H", host]
        return box.prepare(argv, cwd=self._tmp, env={})

    def _spawn(self, amis: Path, argv: list[str]) -> None:
        assert self._tmp is not None
        env = {"PATH": _PATH, "HOME": str(self._tmp), "LANG": "C.UTF-8",
               "MOTO_AMIS_PATH": str(amis), "MOTO_PORT": str(self.port), TOKEN_ENV: self._token}
        log_path, release = self._tmp / "moto.log", threading.Event()
        spawned: queue.SimpleQueue[subprocess.Popen[bytes] | BaseException] = queue.SimpleQueue()

        def keeper() -> None:
            # PR_SET_PDEATHSIG fires when the *thread* that forked the child ends, so fork
            # from a thread that lives as long as the server, not from a caller's worker thread.
            try:
                with open(log_path, "wb") as log:
                    spawned.put(subprocess.Popen(
                        argv, cwd=log_path.parent, env=env, stdin=subprocess.DEVNULL,
                        stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                        preexec_fn=_die_with_parent(),
                    ))
            except BaseException as exc:
                spawned.put(exc)
                return
            release.wait()

        self._release.set()
        self._release = release
        threading.Thread(target=keeper, name=f"moto-keeper-{self.port}", daemon=True).start()
        result = spawned.get()
        if isinstance(result, BaseException):
            raise result
        self._proc = result

    def _wait_ready(self) -> bool:
        """True once the server answers; False if its port was taken; SetupError otherwise."""
        assert self._proc is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                log = self._log_tail()
                if "Address already in use" in log:
                    return False
                self.stop()
                raise SetupError(f"moto server exited during start-up:\n{log}")
            if self._answers():
                return True
            time.sleep(0.05)
        log = self._log_tail()
        self.stop()
        raise SetupError(f"moto server not ready after {self.startup_timeout:g} s:\n{log}")

    def _answers(self) -> bool:
        try:
            with self.control("/moto-api/", timeout=2) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = (self._tmp / "moto.log").read_text(errors="replace") if self._tmp else ""
        except OSError:
            text = ""
        return "\n".join(text.splitlines()[-lines:]) or "(empty log)"


def aws_env(endpoint: str, region: str, account_id: str | None = None) -> dict[str, str]:
    """The AWS variables a terraform process needs to talk to the emulator, none from the host.

    With `account_id`, the credentials are that emulated account's (asked of the emulator's
    STS); without, they are moto's default account's.
    """
    credentials = (account_credentials(endpoint, account_id) if account_id is not None else
                   {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"})
    return {
        "AWS_ENDPOINT_URL": endpoint,
        **credentials,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def new_account_id() -> str:
    """A fresh 12-digit account id: one emulated AWS account per candidate run.

    Random, not derived from the candidate: identical candidates verified at the same time
    must not share an account (they would collide on every name they create).
    """
    return str(10**11 + secrets.randbelow(9 * 10**11))


def account_credentials(endpoint: str, account_id: str) -> dict[str, str]:
    """Temporary credentials that the emulator maps to `account_id`.

    moto keeps each account's resources apart and picks the account from the access key; its
    STS AssumeRole into `arn:aws:iam::<account>:role/...` mints a key of that account (the
    role need not exist). Its S3 bucket names stay global across accounts, as in AWS.
    """
    if not re.fullmatch(r"\d{12}", account_id):
        raise ValueError(f"an AWS account id has 12 digits, not {account_id!r}")
    form = urllib.parse.urlencode({
        "Action": "AssumeRole", "Version": "2011-06-15", "RoleSessionName": "iacforge",
        "RoleArn": f"arn:aws:iam::{account_id}:role/iacforge"}).encode()
    # moto routes a request on loopback by the service named in its credential scope
    scope = "Credential=test/20240101/us-east-1/sts/aws4_request"
    request = urllib.request.Request(f"{endpoint}/", data=form, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Authorization": f"AWS4-HMAC-SHA256 {scope}, SignedHeaders=host, Signature=0"})
    try:
        with _OPENER.open(request, timeout=30) as response:
            found = ElementTree.fromstring(response.read())
    except (OSError, ElementTree.ParseError) as exc:  # URLError and HTTPError are OSErrors
        raise SetupError(f"the emulator at {endpoint} gave no credentials for account "
                         f"{account_id}: {exc}") from exc
    values = [found.findtext(f".//{{*}}{tag}") for tag in
              ("AccessKeyId", "SecretAccessKey", "SessionToken")]
    if not all(values):
        raise SetupError(f"the emulator at {endpoint} answered AssumeRole without credentials")
    return dict(zip(("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"),
                    values, strict=True))


def merged_catalogue() -> list[dict[str, Any]]:
    """moto's default AMIs plus ours (ours win on an id clash).

    moto's `MOTO_AMIS_PATH` replaces its default catalogue (and skips its per-region
    `latest_amis`), so the server gets both lists in one file. moto gives every catalogue
    image `owner_alias = "amazon"`, so `owners = ["amazon"]` matches all of them.
    """
    spec = importlib.util.find_spec("moto")  # locate without importing moto (0.4 s)
    if spec is None or not spec.submodule_search_locations:
        raise SetupError("moto is not installed; install iacforge with its dependencies")
    packaged = Path(spec.submodule_search_locations[0]) / "ec2/resources/amis.json.gz"
    default = json.loads(gzip.decompress(packaged.read_bytes()))
    for ami in default:
        ami.setdefault("creation_date", _date_from_name(ami["name"]))
    ours = json.loads(CATALOGUE.read_text())
    return list({ami["ami_id"]: ami for ami in [*default, *ours]}.values())


def _date_from_name(name: str) -> str:
    match = _NAME_DATE.search(name)
    return f"{match[1]}-{match[2]}-{match[3]}T00:00:00.000Z" if match else _UNDATED


def _python_paths() -> list[Path]:
    """What this interpreter and its packages need, to be seen read-only in the sandbox."""
    found = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.executable).parent,
             Path(os.path.realpath(sys.executable)).parent}
    found |= {Path(p) for p in sys.path if os.path.isabs(p) and os.path.isdir(p)}
    return [p for p in sorted(found) if not any(p != q and p.is_relative_to(q) for q in found)]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((_HOST, 0))
        return sock.getsockname()[1]


def _terminate_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _die_with_parent() -> Callable[[], None] | None:
    """A preexec_fn asking the kernel to SIGKILL the child when its parent dies.

    Why PR_SET_PDEATHSIG and not a watchdog: it is one syscall, enforced by the kernel even
    when we are SIGKILLed, needs no watchdog process, and forked workers of ours do not keep
    the server alive (a pipe watchdog's write end would be inherited by them). Its catch, that
    the "parent" is the forking thread, is handled by `_spawn`'s keeper thread. Not Linux: no
    such guard; atexit and the signal handlers remain.
    """
    if not sys.platform.startswith("linux"):
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl  # resolved before fork; the child only calls
    parent = os.getpid()

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


_shared: MotoServer | None = None
_shared_lock = threading.RLock()


def shared_server() -> MotoServer:
    """This process's emulator, started on first use (and again if it died)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            atexit.register(_stop_shared)
            _install_signal_handlers()
        if _shared is None or _shared._owner != os.getpid():
            _shared = MotoServer()
        return _shared.start()


def _stop_shared() -> None:
    # No lock: this runs in signal handlers, possibly while this thread holds it.
    if _shared is not None:
        _shared.stop()


def _install_signal_handlers() -> None:
    """Stop the shared server on SIGTERM/SIGINT, then do what the previous handler did."""
    if threading.current_thread() is not threading.main_thread():
        return  # signal.signal works only there; atexit and PR_SET_PDEATHSIG still apply
    for signum in (signal.SIGTERM, signal.SIGINT):
        previous = signal.getsignal(signum)
        if previous is not signal.SIG_IGN:  # an ignored signal does not end us: keep the server
            signal.signal(signum, functools.partial(_on_signal, previous))


def _on_signal(previous: Any, signum: int, frame: FrameType | None) -> None:
    _stop_shared()
    if callable(previous):
        previous(signum, frame)  # SIGINT's default handler raises KeyboardInterrupt here
    else:  # SIG_DFL, or a handler installed outside Python: die of the signal as we would have
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
