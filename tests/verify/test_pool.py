"""verify_all: same certificates as one by one, in order, whatever the pool; failures contained."""

from __future__ import annotations

import threading
import time

import pytest

from iacforge.candidate import Candidate
from iacforge.config import Settings
from iacforge.errors import IacforgeError, SetupError
from iacforge.reward import reward
from iacforge.verify import pool
from iacforge.verify.cache import VerdictCache
from iacforge.verify.intent_policy import IntentPolicy
from iacforge.verify.options import VerifierOptions
from iacforge.verify.pipeline import Verifier, resolve_stages
from iacforge.verify.pool import Abandoned, ThreadPool, verify_all

FAST = ("extract", "parse", "security", "lint")
#: The corpus fails at each fast stage only when security and lint gate the verdict.
GATING = VerifierOptions(fail_on=("security", "lint"))
POLICY = IntentPolicy("package terraform.validation\n\ndefault is_valid = true\n")
PINNED = ('terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
          '      version = "~> 5.0"\n    }\n  }\n}\n')
QUEUE = 'resource "aws_sqs_queue" "q{i}" {{\n  name = "q{i}"\n{sse}}}\n'
SSE = "  sqs_managed_sse_enabled = true\n"
BUCKET = 'resource "aws_s3_bucket" "b{i}" {{\n  bucket = "bucket-{i}"\n}}\n'
TYPED = 'variable "v{i}" {{\n  type        = string\n  description = "v"\n}}\n'


def corpus() -> list[Candidate]:
    """40 candidates passing, or failing at extract, parse, security or lint, with repeats."""
    out = []
    for i in range(8):
        out.append(Candidate({"main.tf": PINNED + QUEUE.format(i=i, sse=SSE)}, f"encrypted-{i}"))
        out.append(Candidate({"main.tf": PINNED + QUEUE.format(i=i, sse="")}, f"plain-{i}"))
        out.append(Candidate({"main.tf": BUCKET.format(i=i) + "}\n"}, f"unbalanced-{i}"))
        untyped = PINNED + 'variable "u" {}\n'
        out.append(Candidate({"vars.tf": TYPED.format(i=i), "main.tf": untyped}, f"untyped-{i}"))
    out += [Candidate({}, "empty"), Candidate({}, "binary", ("input.tf: binary data",)),
            Candidate({"main.tf.json": '{"locals": {"x": 1}}'}, "json"),
            Candidate({"main.tf.json": '{"locals": '}, "bad-json")]
    out += [Candidate(dict(c.files), f"again-{c.source}") for c in out[:4]]  # repeats
    return out


def verdict(cert) -> dict:
    """A certificate as JSON, without its stage times (which differ run to run)."""
    data = cert.to_dict(include_plan=True)
    for stage in data["stages"]:
        stage.pop("seconds")
    return data


@pytest.fixture(scope="module")
def one_by_one() -> list[dict]:
    verifier = Verifier(Settings(), FAST, options=GATING)
    return [verdict(verifier.verify(c)) for c in corpus()]


def test_the_corpus_fails_at_every_fast_stage(one_by_one):
    assert {v["status"] for v in one_by_one} == {"pass", "fail"}
    failed = {next(s["stage"] for s in v["stages"] if s["status"] != "pass")
              for v in one_by_one if v["status"] != "pass"}
    assert failed == {"extract", "parse", "security", "lint"}


@pytest.mark.parametrize("workers", [1, 2, 3])
def test_threads_give_the_one_by_one_certificates_in_order(one_by_one, workers):
    certs = verify_all(corpus(), verifier=Verifier(Settings(), FAST, options=GATING),
                       workers=workers)
    assert [verdict(c) for c in certs] == one_by_one


def test_repeated_candidates_are_verified_once_and_keep_their_source(monkeypatch):
    verifier = Verifier(Settings(), ["parse"])
    seen: list[str] = []
    real = pool.verify_batched
    monkeypatch.setattr(pool, "verify_batched",
                        lambda v, cs, i, **kw: seen.extend(c.source for c in cs) or real(v, cs, i))
    same = {"main.tf": "locals {}\n"}
    certs = verify_all([Candidate(same, "a"), Candidate({}, "b"), Candidate(same, "c")],
                       verifier=verifier, workers=2)
    assert [c.source for c in certs] == ["a", "b", "c"]
    assert sorted(seen) == ["a", "b"]
    assert verdict(certs[0]) == verdict(certs[2]) | {"source": "a"}


class _Flaky(Verifier):
    """A verifier that crashes on candidates whose source starts with `boom`."""

    def verify(self, candidate, intent=None):
        if candidate.source.startswith("boom"):
            raise RuntimeError(f"verifier bug on {candidate.source}")
        return super().verify(candidate, intent)


def test_an_item_that_raises_gets_an_error_certificate_and_the_rest_are_judged():
    good = Candidate({"main.tf": PINNED}, "good")
    bad = Candidate({"main.tf": "locals {\n"}, "bad")
    certs = verify_all([good, Candidate({"main.tf": "# x\n"}, "boom-1"), bad],
                       verifier=_Flaky(Settings(), ["lint"]), workers=1)
    assert [c.source for c in certs] == ["good", "boom-1", "bad"]
    assert [c.status for c in certs] == ["pass", "error", "fail"]
    crashed = certs[1]
    first, *rest = resolve_stages(["lint"], with_intent=False)
    assert [(s.stage, s.status) for s in crashed.stages] == [
        (first, "error"), *((name, "skipped") for name in rest)]
    assert "RuntimeError: verifier bug on boom-1" in crashed.stages[0].diagnostics[0].detail
    assert [reward(c) for c in certs] == [0.0, None, 0.0]  # None: no reward, not a zero


class _Broken(Verifier):
    def verify(self, candidate, intent=None):
        raise SetupError("terraform vanished")


def test_a_setup_error_fails_the_whole_batch():
    with pytest.raises(SetupError, match="terraform vanished"):
        verify_all([Candidate({"main.tf": "locals {}\n"})], verifier=_Broken(Settings(), ["parse"]))


def test_intents_are_per_candidate_or_shared():
    verifier = Verifier(Settings(), ["parse"])
    files = [Candidate({"main.tf": "locals {}\n"}), Candidate({"main.tf": "locals {\n"})]
    shared = verify_all(files, POLICY, verifier=verifier)
    each = verify_all(files, [POLICY, None], verifier=verifier)
    assert [c.status for c in shared] == [c.status for c in each] == ["pass", "fail"]
    with pytest.raises(IacforgeError, match="1 intents for 2 candidates"):
        verify_all(files, [POLICY], verifier=verifier)


def test_a_batch_mixes_candidates_with_and_without_an_intent():
    """The intent stage runs where there is a policy; the others get what it needs (plan)."""
    verifier = Verifier(Settings(), ["parse", "intent"])
    files = [Candidate({"main.tf": "locals {}\n"}), Candidate({"main.tf": "locals {\n"})]
    certs = verify_all(files, [POLICY, None], verifier=verifier, workers=1)
    assert [s.stage for s in certs[1].stages] == [
        "extract", "parse", "screen", "validate", "plan"]
    assert (certs[1].status, certs[1].failed_stage) == ("fail", "parse")
    assert [s.stage for s in certs[0].stages][-1] == "intent"


def test_cache_hits_never_reach_a_worker_and_equal_the_first_answer(tmp_path, monkeypatch):
    cache = VerdictCache(tmp_path / "verdicts.sqlite3")
    verifier = Verifier(Settings(), FAST)
    first = verify_all(corpus(), verifier=verifier, cache=cache, workers=2)
    monkeypatch.setattr(pool, "verify_batched", lambda *a, **k: pytest.fail("a hit was verified"))
    assert verify_all(corpus(), verifier=verifier, cache=cache, workers=2) == first


@pytest.fixture
def slow(monkeypatch):
    """Chunks take half a second each; the list counts the chunks started."""
    started: list[int] = []
    real = pool.verify_batched

    def verify_batched(verifier, candidates, intents, **kw):
        started.append(len(candidates))
        time.sleep(0.5)
        return real(verifier, candidates, intents, **kw)

    monkeypatch.setattr(pool, "verify_batched", verify_batched)
    return started


def test_a_timeout_raises_and_chunks_not_started_are_cancelled(slow):
    shared = ThreadPool(1)  # a shared pool, as the server's: nobody closes it after the batch
    verifier = Verifier(Settings(), ["parse"])
    candidates = [Candidate({"main.tf": f"locals {{ x = {i} }}\n"}) for i in range(40)]
    with pytest.raises(TimeoutError, match=r"did not finish in 0\.2 s"):
        verify_all(candidates, verifier=verifier, pool=shared, timeout=0.2)
    time.sleep(1.5)  # time enough for all three chunks (16, 16, 8) had they stayed queued
    assert len(slow) == 1
    shared.close()


def test_an_abandoned_batch_stops_waiting(slow):
    gone = threading.Event()
    threading.Timer(0.1, gone.set).start()
    with pytest.raises(Abandoned):
        verify_all([Candidate({"main.tf": "locals {}\n"})],
                   verifier=Verifier(Settings(), ["parse"]), abandoned=gone.is_set)


def test_no_progress_bar_when_stderr_is_not_a_terminal(capfd):
    verify_all(corpus()[:4], verifier=Verifier(Settings(), ["parse"]))
    assert capfd.readouterr().err == ""

