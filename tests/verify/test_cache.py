"""The verdict cache: what invalidates it, what a hit returns, and what it survives."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from iacforge.candidate import Candidate
from iacforge.certificate import Certificate
from iacforge.config import Settings
from iacforge.diagnostics import Diagnostic, StageResult
from iacforge.verify import cache as cache_module
from iacforge.verify.cache import CachedVerifier, CacheKey, VerdictCache, as_cached
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier

TASK = "tasks/vpc_two_subnets_in_two_azs"
BUCKET = Candidate({"main.tf": 'resource "aws_s3_bucket" "logs" {\n  bucket = "logs"\n}\n'})
POLICY = IntentPolicy("package terraform.validation\n\ndefault is_valid = true\n")
BASE_KEY = CacheKey(candidate="c" * 64, intent="intent.rego:" + "i" * 64,
                    stages=("extract", "parse", "validate"), options=VerifierOptions().key(),
                    terraform="1.11.0", provider="5.100.0", iacforge="0.1.0",
                    tools=(("checkov", "3.3.30"), ("region", "us-east-1")), schema=1)


@pytest.fixture
def cache(tmp_path: Path) -> VerdictCache:
    store = VerdictCache(tmp_path / "verdicts.sqlite3")
    yield store
    store.close()


def certificate(tag: str, status: str = "pass") -> Certificate:
    return Certificate(f"{tag:0>64}", (
        StageResult("extract", "pass", seconds=0.001),
        StageResult("parse", status, (Diagnostic("error", f"problem {tag}", line=1),),
                    seconds=0.25, metrics={"blocks": 1})), source=tag, files=("main.tf",))


@pytest.mark.parametrize(("part", "other"), [
    ("candidate", "d" * 64),
    ("intent", ""),
    ("stages", ("extract", "parse")),
    ("options", VerifierOptions(intent_rule="strict").key()),
    ("terraform", "1.12.0"),
    ("provider", "5.99.0"),
    ("iacforge", "0.2.0"),
    ("tools", (("checkov", "3.3.31"), ("region", "us-east-1"))),
    ("schema", BASE_KEY.schema + 1),
])
def test_every_key_part_changes_the_digest(part, other):
    assert dataclasses.replace(BASE_KEY, **{part: other}).digest() != BASE_KEY.digest()


def test_the_digest_is_stable():
    assert dataclasses.replace(BASE_KEY).digest() == BASE_KEY.digest()


# What a user can change, and the key part each change must reach. Every change is applied
# to a verifier running validate, so the terraform and provider versions are in the key.
def _other_candidate(cv, candidate, intent):
    return cv, Candidate({**candidate.files, "extra.tf": "locals {}\n"}), intent


def _other_intent(cv, candidate, intent):
    return cv, candidate, IntentPolicy(intent.text + "\nx := 1\n")


def _other_stages(cv, candidate, intent):
    return CachedVerifier(Verifier(cv.verifier.settings, ["validate", "lint"]),
                          cv.cache), candidate, intent


def _other_options(cv, candidate, intent):
    return CachedVerifier(Verifier(cv.verifier.settings, ["validate"],
                                   options=VerifierOptions(skip_checks=("CKV_AWS_18",))),
                          cv.cache), candidate, intent


def _other_fail_on(cv, candidate, intent):
    return CachedVerifier(Verifier(cv.verifier.settings, ["validate"],
                                   options=VerifierOptions(fail_on=("lint",))),
                          cv.cache), candidate, intent


def _other_terraform(cv, candidate, intent):
    cv.verifier.terraform.__dict__["version"] = "1.99.0"  # as if terraform were upgraded
    return cv, candidate, intent


def _other_provider(cv, candidate, intent):
    cv.verifier.terraform.__dict__["aws_version"] = "6.0.0"
    return cv, candidate, intent


def _other_region(cv, candidate, intent):
    settings = dataclasses.replace(cv.verifier.settings, region="eu-west-1")
    return CachedVerifier(Verifier(settings, ["validate"]), cv.cache), candidate, intent


@pytest.mark.parametrize("change", [
    _other_candidate, _other_intent, _other_stages, _other_options, _other_fail_on,
    _other_terraform,
    _other_provider, _other_region,
], ids=lambda f: f.__name__.removeprefix("_other_"))
def test_a_stored_verdict_is_not_served_after_a_change(cache, change):
    cached = CachedVerifier(Verifier(Settings(), ["validate"]), cache)
    digest, _ = cached.lookup(BUCKET, POLICY)
    cache.put(digest, certificate("bucket"))
    assert cached.lookup(BUCKET, POLICY)[1] is not None
    changed, candidate, intent = change(cached, BUCKET, POLICY)
    assert changed.lookup(candidate, intent)[1] is None


@pytest.mark.parametrize(("constant", "value"), [
    ("__version__", "9.9.9"), ("_source_hash", lambda: "f" * 16), ("CACHE_SCHEMA", 99)],
    ids=["version", "source", "schema"])
def test_new_iacforge_code_or_cache_schema_misses(cache, monkeypatch, constant, value):
    cached = CachedVerifier(Verifier(Settings(), ["parse"]), cache)
    digest, _ = cached.lookup(BUCKET)
    cache.put(digest, certificate("bucket"))
    assert cached.lookup(BUCKET)[1] is not None
    monkeypatch.setattr(cache_module, constant, value)
    assert cached.lookup(BUCKET)[1] is None


def test_the_key_reads_the_real_tool_versions():
    verifier = Verifier(Settings(), ["validate"])
    key = CachedVerifier(verifier, VerdictCache(":memory:")).key(BUCKET)
    assert (key.terraform, key.provider) == (verifier.terraform.version,
                                             verifier.terraform.aws_version)
    assert key.terraform.count(".") == 2 and key.provider.count(".") == 2
    assert dict(key.tools)["region"] == "us-east-1" and dict(key.tools)["checkov"]
    parse_only = CachedVerifier(Verifier(Settings(), ["parse"]), VerdictCache(":memory:"))
    assert parse_only.key(BUCKET).terraform == ""  # no terraform stage, no terraform needed


def test_where_a_candidate_came_from_is_not_part_of_the_key(cache):
    cached = CachedVerifier(Verifier(Settings(), ["parse"]), cache)
    files = dict(reversed(list({"a.tf": "locals {}\n", "b.tf": "locals {}\n"}.items())))
    first = cached.verify(Candidate({"a.tf": "locals {}\n", "b.tf": "locals {}\n"}, "one"))
    again = cached.verify(Candidate(files, "two"))
    assert again.source == "two"
    assert dataclasses.replace(again, source="one") == first


def test_a_hit_returns_an_equal_certificate_without_verifying(cache, monkeypatch):
    verifier = Verifier(Settings(), ["parse", "lint"], options=VerifierOptions(fail_on=["lint"]))
    cached = CachedVerifier(verifier, cache)
    broken = Candidate({"main.tf": 'resource "aws_s3_bucket" "b" {\n'})
    first = [cached.verify(BUCKET), cached.verify(broken)]
    assert [c.failed_stage for c in first] == ["lint", "parse"]
    monkeypatch.setattr(verifier, "verify", lambda *a: pytest.fail("verified a cached candidate"))
    assert [cached.verify(BUCKET), cached.verify(broken)] == first


@pytest.mark.slow
def test_a_certificate_with_its_plan_round_trips_exactly(cache, certify):
    cert = certify(f"{TASK}/reference", None, f"{TASK}/intent_v0.rego")
    assert cert.plan and cert.rego and cert.status in ("pass", "fail")
    rounded = dataclasses.replace(cert, stages=tuple(
        dataclasses.replace(s, seconds=round(s.seconds, 4)) for s in cert.stages))
    assert as_cached(cert) == rounded  # only the stage times are rounded, to 0.1 ms
    cache.put("k", cert)
    assert cache.get("k") == rounded
    assert cache.get("k").plan == cert.plan


def test_a_certificate_with_an_error_stage_is_never_stored(cache):
    cache.put("ok", certificate("ok"))
    cache.put("err", certificate("err", status="error"))
    assert cache.get("ok") is not None
    assert cache.get("err") is None


def test_a_corrupt_row_is_a_miss_and_is_dropped(cache):
    cache.put("good", certificate("good"))
    cache.put("bad", certificate("bad"))
    with sqlite3.connect(cache.path) as conn:
        conn.execute("UPDATE verdicts SET certificate = ? WHERE key = 'bad'", ('{"stag',))
        conn.execute("INSERT INTO verdicts VALUES ('shape', ?)", (json.dumps({"stages": 1}),))
    assert cache.get("bad") is None
    assert cache.get("shape") is None
    assert cache.get("good") == certificate("good")
    with sqlite3.connect(cache.path) as conn:
        assert {k for (k,) in conn.execute("SELECT key FROM verdicts")} == {"good"}
    cache.put("bad", certificate("bad"))
    assert cache.get("bad") == certificate("bad")


def test_a_file_that_is_not_a_database_is_skipped_with_a_warning(tmp_path):
    path = tmp_path / "verdicts.sqlite3"
    path.write_bytes(b"this is not sqlite " * 100)
    cached = CachedVerifier(Verifier(Settings(), ["parse"]), VerdictCache(path))
    with pytest.warns(RuntimeWarning, match="verifying without it"):
        cert = cached.verify(BUCKET)
    assert cert.status == "pass"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warned once is enough
        assert cached.verify(BUCKET).status == "pass"


# Each writer says it is ready, then waits for the go file, so the two really overlap.
_WRITER = """
import json, pathlib, sys, time
from iacforge.certificate import Certificate
from iacforge.verify.cache import VerdictCache
from iacforge.verify.options import VerifierOptions
store, batch = VerdictCache(sys.argv[1]), pathlib.Path(sys.argv[2])
rows = [(k, Certificate.from_dict(c)) for k, c in json.loads(batch.read_text()).items()]
batch.with_suffix(".ready").touch()
while not batch.with_name("go").exists():
    time.sleep(0.005)
for key, cert in rows:
    store.put(key, cert)
"""


def test_two_processes_write_at_once(tmp_path):
    path = tmp_path / "verdicts.sqlite3"
    wanted: dict[str, Certificate] = {}
    writers = []
    for tag in ("a", "b"):
        rows = {f"{tag}-{i}": certificate(f"{tag}{i}") for i in range(150)}
        rows |= {f"shared-{i}": certificate(f"shared{i}") for i in range(150)}
        wanted |= rows
        batch = tmp_path / f"{tag}.json"
        batch.write_text(json.dumps({k: c.to_dict() for k, c in rows.items()}))
        writers.append(subprocess.Popen([sys.executable, "-c", _WRITER, str(path), str(batch)]))
    deadline = time.monotonic() + 60
    while not all((tmp_path / f"{t}.ready").exists() for t in "ab"):
        assert time.monotonic() < deadline and all(w.poll() is None for w in writers)
        time.sleep(0.01)
    (tmp_path / "go").touch()
    assert [w.wait(60) for w in writers] == [0, 0]
    store = VerdictCache(path)
    assert {key: store.get(key) for key in wanted} == wanted
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM verdicts").fetchone() == (450,)
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_the_verify_command_caches_unless_told_not_to(tmp_path, monkeypatch, capsys):
    from iacforge.cli import main

    monkeypatch.setenv("IACFORGE_CACHE_DIR", str(tmp_path))
    (tmp_path / "main.tf").write_text("locals {}\n")
    args = ["verify", str(tmp_path / "main.tf"), "--stages", "parse", "--format", "json"]
    assert main([*args, "--no-cache"]) == 0
    assert not (tmp_path / "verdicts.sqlite3").exists()
    capsys.readouterr()
    assert main(args) == 0
    [stored] = json.loads(capsys.readouterr().out)["certificates"]
    assert main([*args, "--workers", "1"]) == 0  # the same key whatever the worker count
    [hit] = json.loads(capsys.readouterr().out)["certificates"]
    # the hit says so, since its stage times are the first run's, not this one's
    assert (stored.pop("cached"), hit.pop("cached")) == (False, True)
    assert hit == stored
    with sqlite3.connect(tmp_path / "verdicts.sqlite3") as conn:
        [(text,)] = conn.execute("SELECT certificate FROM verdicts").fetchall()
    assert json.loads(text)["content_hash"] == stored["content_hash"]


_OPENER = """
import json, pathlib, sys, time
from iacforge.certificate import Certificate
from iacforge.verify.cache import VerdictCache
store, go = VerdictCache(sys.argv[1]), pathlib.Path(sys.argv[2])
pathlib.Path(sys.argv[3]).touch()
while not go.exists():
    time.sleep(0.001)
store.put(sys.argv[3], Certificate.from_dict(json.loads(sys.argv[4])))
print("broken" if store._broken else "ok")
"""


def test_processes_opening_a_new_cache_at_once_all_keep_it(tmp_path):
    """A new database switched to WAL by several processes at once answers "locked" to all but
    one, at once; each must wait for it rather than verify without its cache."""
    for trial in range(10):
        path, go = tmp_path / f"{trial}.sqlite3", tmp_path / f"go{trial}"
        ready = [tmp_path / f"{trial}-{i}" for i in range(6)]
        cert = json.dumps(certificate(f"t{trial}").to_dict())
        openers = [subprocess.Popen([sys.executable, "-c", _OPENER, str(path), str(go), str(r),
                                     cert], stdout=subprocess.PIPE, text=True) for r in ready]
        deadline = time.monotonic() + 60
        while not all(r.exists() for r in ready):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        go.touch()
        assert [o.communicate(timeout=60)[0].strip() for o in openers] == ["ok"] * 6
        store = VerdictCache(path)
        assert all(store.get(str(r)) is not None for r in ready)
