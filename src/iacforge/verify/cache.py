"""VerdictCache: certificates stored in SQLite under a hash of everything that can change them.

The key (`CacheKey`) covers the candidate's files, the intent policy, the resolved stage list,
the verifier's options, the terraform and provider versions (when a terraform stage runs), the
versions of the other tools a verdict depends on (checkov, regorus, moto, tflint and opa when on
PATH), the region, the iacforge version with a hash of its source files (so a fix to the
verifier never serves verdicts of the code before it, even at the same version number) and
this cache's schema. The value is the certificate's
JSON with its plan. A certificate with an `error` stage is never stored: the verifier could not
judge, so the next run tries again.

The cache can make verification faster, never make it fail: a row that does not decode is a
miss (and is dropped), and a database that cannot be opened or written is skipped with a
warning. SQLite in WAL mode with a busy timeout lets several processes share one file.

>>> from iacforge import Candidate, Verifier
>>> import tempfile
>>> cached = CachedVerifier(Verifier(stages=["parse"]),
...                         VerdictCache(tempfile.mkdtemp() + "/verdicts.sqlite3"))
>>> first = cached.verify(Candidate({"main.tf": "locals {}\\n"}))
>>> cached.verify(Candidate({"main.tf": "locals {}\\n"})) == first
True
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import sqlite3
import threading
import time
import warnings
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path

from iacforge._version import __version__
from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.pipeline import Verifier, resolve_stages

#: Bumped whenever the key or the stored value changes meaning; old rows then never match.
CACHE_SCHEMA = 2
#: Python distributions whose version can change a verdict (security, intent, plan stages).
_DISTRIBUTIONS = ("checkov", "gordon-to-regorus", "moto")
#: Binaries a stage uses when they are on PATH (lint: tflint; intent with engine opa: opa).
_BINARIES = ("tflint", "opa")
#: The files whose content makes iacforge's verdicts what they are (code, policies, catalogues).
_SOURCE_SUFFIXES = (".py", ".json", ".rego")
_BUSY_MS = 10_000
_CREATE = "CREATE TABLE IF NOT EXISTS verdicts (key TEXT PRIMARY KEY, certificate TEXT NOT NULL)"


@dataclass(frozen=True)
class CacheKey:
    """Everything a verdict depends on; `digest()` is the row key."""

    candidate: str
    intent: str
    stages: tuple[str, ...]
    options: str
    terraform: str
    provider: str
    iacforge: str
    tools: tuple[tuple[str, str], ...]
    schema: int

    def digest(self) -> str:
        text = json.dumps(dataclasses.asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()


def cacheable(cert: Certificate) -> bool:
    """False when any stage ended in `error`: the verifier could not judge, so retry next time."""
    return all(s.status != "error" for s in cert.stages)


def as_cached(cert: Certificate) -> Certificate:
    """`cert` as the cache gives it back: after a JSON round trip (stage times to 0.1 ms)."""
    return replace(Certificate.from_dict(cert.to_dict(include_plan=True)), source=cert.source)


def default_path(settings: Settings) -> Path:
    """Where the cache lives for `settings`: `<cache_dir>/verdicts.sqlite3`."""
    return Path(settings.cache_dir) / "verdicts.sqlite3"


class VerdictCache:
    """A SQLite table of certificate JSON by key digest, safe across threads and processes."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0  # a connection must not cross a fork: reopen in a child
        self._broken = False
        self._warned = False

    def get(self, key: str) -> Certificate | None:
        """The stored certificate for `key`, or None (missing, undecodable, or no database)."""
        with self._lock:
            row = self._execute("SELECT certificate FROM verdicts WHERE key = ?", (key,))
            text = row.fetchone() if row is not None else None
            if text is None:
                return None
            try:
                return Certificate.from_dict(json.loads(text[0]))
            except (ValueError, TypeError, KeyError, AttributeError):
                self._execute("DELETE FROM verdicts WHERE key = ?", (key,))
                return None

    def put(self, key: str, cert: Certificate) -> None:
        """Store `cert` under `key` unless it holds an `error` stage."""
        if not cacheable(cert):
            return
        text = json.dumps(cert.to_dict(include_plan=True), separators=(",", ":"))
        with self._lock:
            self._execute("INSERT OR REPLACE INTO verdicts (key, certificate) VALUES (?, ?)",
                          (key, text))

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def _execute(self, sql: str, params: tuple[str, ...]) -> sqlite3.Cursor | None:
        conn = self._connection()
        if conn is None:
            return None
        try:
            return conn.execute(sql, params)
        except sqlite3.Error as exc:  # e.g. locked past the busy timeout: a miss, not a failure
            self._warn(exc)
            return None

    def _connection(self) -> sqlite3.Connection | None:
        if self._broken:
            return None
        if self._conn is None or self._pid != os.getpid():
            deadline = time.monotonic() + _BUSY_MS / 1000
            while True:
                try:
                    conn = self._open()
                    break
                except sqlite3.OperationalError as exc:
                    # Switching a new database to WAL answers "locked" at once, without the busy
                    # handler, when another process does it too: wait for it like a busy lock.
                    if "locked" in str(exc) and time.monotonic() < deadline:
                        time.sleep(0.02)
                        continue
                    self._broken = True
                    self._warn(exc)
                    return None
                except (sqlite3.Error, OSError) as exc:  # not a database, read-only, ...
                    self._broken = True
                    self._warn(exc)
                    return None
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _open(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.path, timeout=_BUSY_MS / 1000, isolation_level=None,
                               check_same_thread=False)
        try:
            conn.execute(f"PRAGMA busy_timeout = {_BUSY_MS}")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(_CREATE)
        except BaseException:
            conn.close()
            raise
        return conn

    def _warn(self, exc: Exception) -> None:
        if not self._warned:
            self._warned = True
            warnings.warn(f"verdict cache {self.path} failed ({exc}); verifying without it",
                          RuntimeWarning, stacklevel=4)


class CachedVerifier:
    """A Verifier that answers candidates it has already judged from a VerdictCache.

    What it returns on a miss is exactly what a later hit returns: the certificate after a
    JSON round trip (stage times rounded to 0.1 ms), with the caller's `source`.
    """

    def __init__(self, verifier: Verifier, cache: VerdictCache) -> None:
        self.verifier = verifier
        self.cache = cache
        self._tools: tuple[tuple[str, str], ...] | None = None

    def key(self, candidate: Candidate, intent: IntentPolicy | None = None) -> CacheKey:
        """The cache key of verifying `candidate` against `intent` with this verifier."""
        stages = resolve_stages(self.verifier.stages, with_intent=intent is not None)
        terraform = provider = ""
        if "validate" in stages:  # every terraform stage needs validate
            tf = self.verifier.terraform
            terraform, provider = tf.version, tf.aws_version
        return CacheKey(
            candidate=candidate.content_hash(),
            intent=intent_identity(intent),
            stages=stages,
            options=self.verifier.options.key(),
            terraform=terraform,
            provider=provider,
            iacforge=f"{__version__}+{_source_hash()}",
            tools=self.tools(),
            schema=CACHE_SCHEMA,
        )

    def tools(self) -> tuple[tuple[str, str], ...]:
        """Versions of the other tools and settings a verdict depends on, read once."""
        if self._tools is None:
            found = [(name, _distribution_version(name)) for name in _DISTRIBUTIONS]
            found += [(name, _binary_fingerprint(name)) for name in _BINARIES]
            found.append(("region", self.verifier.settings.region))
            self._tools = tuple(found)
        return self._tools

    def lookup(self, candidate: Candidate,
               intent: IntentPolicy | None = None) -> tuple[str, Certificate | None]:
        """The key digest for `candidate` and its cached certificate, when there is one."""
        digest = self.key(candidate, intent).digest()
        hit = self.cache.get(digest)
        return digest, None if hit is None else replace(hit, source=candidate.source,
                                                         cached=True)

    def store(self, digest: str, cert: Certificate) -> Certificate:
        """Cache `cert` under `digest`; returns it as a later hit will return it."""
        self.cache.put(digest, cert)
        return as_cached(cert)

    def verify(self, candidate: Candidate, intent: IntentPolicy | None = None) -> Certificate:
        """Verify one candidate, from the cache when it was judged before."""
        digest, hit = self.lookup(candidate, intent)
        return hit or self.store(digest, self.verifier.verify(candidate, intent))


def intent_identity(intent: IntentPolicy | None) -> str:
    """What of a policy a verdict depends on: its name (diagnostics cite it) and its text."""
    return "" if intent is None else f"{intent.name}:{intent.content_hash()}"


@functools.cache  # reading package metadata costs ~10 ms; installs do not change under us
def _distribution_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return ""


@functools.cache
def _source_hash() -> str:
    """SHA-256 (16 hex digits) of iacforge's own code and data files, read once per process."""
    root = Path(__file__).parents[1]
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        if path.suffix in _SOURCE_SUFFIXES and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(root)}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _binary_fingerprint(name: str) -> str:
    """Path, size and mtime of `name` on PATH (no subprocess), or "" when it is not there."""
    path = shutil.which(name)
    if path is None:
        return ""
    stat = os.stat(path)
    return f"{path}:{stat.st_size}:{stat.st_mtime_ns}"
