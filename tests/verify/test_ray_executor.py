"""`--executor ray` on a real local Ray (2 CPUs, loopback, no dashboard) gives the local verdicts.

scripts/setup installs Ray (the `ray` extra), so these tests run in CI: no skip when Ray is
missing, an ImportError is a broken set-up. One Ray serves the whole module (it takes seconds
to start); the CLI and `verify_all` find it running and leave it up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psutil  # accelerate's dependency (the llm extra)
import pytest
import ray

from iacforge.candidate import Candidate
from iacforge.cli import main
from iacforge.config import Settings
from iacforge.verify.pipeline import Verifier
from iacforge.verify.pool import RayPool, verify_all

STAGES = Path(__file__).parents[1] / "fixtures/stages"
PINNED = ('terraform {\n  required_providers {\n    aws = {\n      source  = "hashicorp/aws"\n'
          '      version = "~> 5.0"\n    }\n  }\n}\n')
BUCKET = 'resource "aws_s3_bucket" "b" {\n  bucket = "bucket-1"\n}\n'

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray() -> Iterator[RayPool]:
    """A local Ray of 2 CPUs, started as `--executor ray` starts it, for the whole module."""
    pool = RayPool(2)
    try:
        yield pool
    finally:
        pool.close()
    assert not ray.is_initialized()


def without_times(certificates: list[dict]) -> list[dict]:
    """Certificates as JSON without their stage times (which differ run to run)."""
    for cert in certificates:
        for stage in cert["stages"]:
            stage.pop("seconds")
    return certificates


def first_not_passed(cert: dict) -> str | None:
    return next((s["stage"] for s in cert["stages"] if s["status"] != "pass"), None)


def cli_verify(capsys, *args: str) -> tuple[int, list[dict]]:
    """`iacforge verify --format json ARGS` in this process: exit code, certificates."""
    code = main(["verify", "--no-cache", "--format", "json", "--quiet", *args])
    out = capsys.readouterr().out
    return code, without_times(json.loads(out)["certificates"])


def test_the_local_ray_has_2_cpus_and_listens_on_loopback_only(local_ray):
    """Also when ray was imported first (as here, at the top of this module)."""
    assert local_ray.workers == 2
    assert ray.cluster_resources()["CPU"] == 2
    assert [n["NodeManagerAddress"] for n in ray.nodes()] == ["127.0.0.1"]
    assert ray.get_runtime_context().gcs_address.startswith("127.0.0.1:")
    ray_processes = {p.pid for p in psutil.Process().children(recursive=True)}
    listening = {(c.pid, c.laddr.ip) for c in psutil.net_connections("inet")
                 if c.status == psutil.CONN_LISTEN and c.pid in ray_processes}
    assert len(listening) >= 3  # the GCS, the raylet, the workers
    assert {ip for _, ip in listening} <= {"127.0.0.1", "::ffff:127.0.0.1"}, listening


def test_executor_ray_gives_the_local_verdicts_up_to_plan(local_ray, capsys):
    """A pass, a validate failure and a plan failure, through the CLI with each executor."""
    paths = [str(STAGES / name) for name in
             ("pass_local_module", "fail_validate_unknown_argument", "fail_plan_no_matching_vpc")]
    local_code, local = cli_verify(capsys, "--stages", "plan", "--executor", "local", *paths)
    ray_code, on_ray = cli_verify(capsys, "--stages", "plan", "--executor", "ray", *paths)
    assert [(c["status"], first_not_passed(c)) for c in local] == [
        ("pass", None), ("fail", "validate"), ("fail", "plan")]
    assert (ray_code, on_ray) == (local_code, local) == (1, local)
    assert ray.is_initialized()  # the CLI joined the running Ray and left it up


def test_ray_workers_bind_their_own_terraform_and_keep_order_and_repeats(local_ray):
    verifier = Verifier(Settings(), ["validate"])
    assert verifier.terraform.version  # bound here; the workers must bind their own
    unknown = (STAGES / "fail_validate_unknown_argument/main.tf").read_text()
    candidates = [Candidate({"main.tf": PINNED + BUCKET}, "pass"),
                  Candidate({"main.tf": unknown}, "unknown-argument"),
                  Candidate({"main.tf": BUCKET + "}\n"}, "unbalanced"),
                  Candidate({}, "empty"),
                  Candidate({"main.tf": PINNED + BUCKET}, "pass-again")]
    local = verify_all(candidates, verifier=verifier, workers=2)
    on_ray = verify_all(candidates, verifier=verifier, pool=local_ray)
    assert [c.status for c in on_ray] == ["pass", "fail", "fail", "fail", "pass"]
    assert [c.source for c in on_ray] == [c.source for c in candidates]
    assert [without_times([c.to_dict(include_plan=True)]) for c in on_ray] == [
        without_times([c.to_dict(include_plan=True)]) for c in local]
