"""The moto server the verifier runs: lifecycle, isolation, no leaks, and our AMI catalogue."""

from __future__ import annotations

import inspect
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from iacforge.config import Settings
from iacforge.errors import SetupError
from iacforge.verify.terraform.emulator import (
    CATALOGUE,
    MotoServer,
    aws_env,
    merged_catalogue,
    shared_server,
)
from iacforge.verify.terraform.moto_guard import TOKEN_ENV

REGION = "us-east-1"
JAMMY = "ubuntu/images/hvm-ssd/ubuntu-jammy-22.04-amd64-server-*"
SRC = str(Path(__file__).resolve().parents[2] / "src")


@pytest.fixture(scope="module")
def moto():
    with MotoServer() as server:
        yield server


@pytest.fixture
def fresh(moto):
    moto.reset()
    return moto


def client(server: MotoServer, service: str):
    return boto3.client(
        service, endpoint_url=server.endpoint, region_name=REGION,
        aws_access_key_id="test", aws_secret_access_key="test",
        config=Config(proxies={}),
    )


def gone(pid: int, within: float = 10.0) -> bool:
    """True once `pid` no longer runs (a zombie waiting for its reaper counts as gone)."""
    deadline = time.monotonic() + within
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)


def spawn_parent(body: str) -> tuple[subprocess.Popen[str], int]:
    """A python parent that runs `body` (which prints the moto pid), and that pid."""
    code = ("import sys, time\n"
            "from iacforge.verify.terraform.emulator import MotoServer, shared_server\n")
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": SRC, "HOME": os.environ.get("HOME", "/")}
    parent = subprocess.Popen([sys.executable, "-c", code + textwrap.dedent(body)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = parent.stdout.readline()
    if not line.strip().isdigit():
        parent.kill()
        pytest.fail(f"parent printed {line!r}: {parent.communicate()[1]}")
    return parent, int(line)


def test_server_listens_on_loopback_and_answers(moto):
    assert moto.alive()
    assert moto.endpoint == f"http://127.0.0.1:{moto.port}"
    identity = client(moto, "sts").get_caller_identity()
    assert identity["Account"].isdigit()
    zones = client(moto, "ec2").describe_availability_zones()["AvailabilityZones"]
    assert {z["ZoneName"] for z in zones} >= {"us-east-1a", "us-east-1b"}


def test_reset_clears_created_resources(fresh):
    s3 = client(fresh, "s3")
    s3.create_bucket(Bucket="pass-reset")
    assert [b["Name"] for b in s3.list_buckets()["Buckets"]] == ["pass-reset"]
    fresh.reset()
    assert s3.list_buckets()["Buckets"] == []


def test_child_gets_a_clean_env(monkeypatch):
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "host-secret")
    monkeypatch.setenv("AWS_PROFILE", "host-profile")
    with MotoServer() as server:
        raw = Path(f"/proc/{server.pid}/environ").read_bytes().split(b"\0")
    env = dict(item.decode().split("=", 1) for item in raw if item)
    assert set(env) == {"PATH", "HOME", "LANG", "MOTO_AMIS_PATH", "MOTO_PORT", TOKEN_ENV}
    assert env["HOME"] != os.environ.get("HOME")


def test_stop_leaves_no_process_and_no_files():
    server = MotoServer().start()
    pid = server.pid
    tmp = Path(os.readlink(f"/proc/{pid}/cwd"))  # the server runs in its temp dir
    assert tmp.is_dir()
    server.stop()
    assert not server.alive()
    assert gone(pid, within=0)
    assert not tmp.exists()
    server.stop()  # idempotent
    with pytest.raises(SetupError, match="could not reset"):
        server.reset()


def test_start_failure_says_why():
    server = MotoServer(startup_timeout=0.01)
    with pytest.raises(SetupError, match="not ready after"):
        server.start()
    assert server.pid is None


def test_server_outlives_the_thread_that_started_it():
    started: dict[str, MotoServer] = {}
    worker = threading.Thread(target=lambda: started.update(server=MotoServer().start()))
    worker.start()
    worker.join()
    server = started["server"]
    try:
        time.sleep(0.3)  # the kernel's parent-death signal would have landed by now
        assert server.alive()
        assert client(server, "sts").get_caller_identity()["Account"]
    finally:
        server.stop()


def test_moto_dies_with_a_sigkilled_parent():
    parent, moto_pid = spawn_parent("""
        server = MotoServer().start()
        print(server.pid, flush=True)
        time.sleep(60)
    """)
    assert not gone(moto_pid, within=0)
    tmp = Path(os.readlink(f"/proc/{moto_pid}/cwd"))
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    assert gone(moto_pid), "moto outlived its SIGKILLed parent"
    shutil.rmtree(tmp)  # nobody was left to remove it


def test_sigterm_stops_the_shared_server_then_runs_the_previous_handler():
    parent, moto_pid = spawn_parent("""
        import os, signal
        def previous(signum, frame):  # os.write: the signal may land inside print()
            os.write(1, f"previous handler, server alive: {server.alive()}\\n".encode())
            sys.exit(3)
        signal.signal(signal.SIGTERM, previous)
        server = shared_server()
        assert shared_server() is server
        print(server.pid, flush=True)
        time.sleep(60)
    """)
    parent.send_signal(signal.SIGTERM)
    out, _ = parent.communicate(timeout=20)
    assert parent.returncode == 3
    assert "previous handler, server alive: False" in out
    assert gone(moto_pid)


def test_sigint_stops_the_shared_server_and_still_raises_keyboard_interrupt():
    parent, moto_pid = spawn_parent("""
        import os, signal
        # as in any interactive Python, even when the test process has SIGINT ignored or
        # blocked (a background job of a non-interactive shell), which its children inherit
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
        signal.signal(signal.SIGINT, signal.default_int_handler)
        server = shared_server()
        try:
            print(server.pid, flush=True)
            time.sleep(60)
        except KeyboardInterrupt:
            os.write(1, f"KeyboardInterrupt, server alive: {server.alive()}\\n".encode())
    """)
    parent.send_signal(signal.SIGINT)
    out, _ = parent.communicate(timeout=20)
    assert "KeyboardInterrupt, server alive: False" in out
    assert gone(moto_pid)


def test_shared_server_is_one_per_process_and_restarts_when_dead():
    server = shared_server()
    assert shared_server() is server
    server.stop()
    assert shared_server() is server
    assert server.alive()


def test_aws_env_points_at_the_emulator_and_takes_nothing_from_the_host(monkeypatch):
    monkeypatch.setenv("AWS_PROFILE", "host-profile")
    env = aws_env("http://127.0.0.1:1234", "eu-west-1")
    assert env == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:1234",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "eu-west-1",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def test_catalogue_records_fit_moto_and_keep_the_default_images():
    from moto.ec2.models.amis import Ami

    accepted = set(inspect.signature(Ami.__init__).parameters)
    ours = json.loads(CATALOGUE.read_text())
    merged = merged_catalogue()
    ids = [ami["ami_id"] for ami in merged]
    assert len(ids) == len(set(ids))
    assert {a["ami_id"] for a in ours} < set(ids)
    assert len(merged) > len(ours) + 40  # moto's own catalogue is kept
    for ami in merged:
        assert set(ami) <= accepted, ami["ami_id"]
        datetime.fromisoformat(ami["creation_date"].replace("Z", "+00:00"))


def most_recent(server: MotoServer, owners: list[str], name: str) -> dict:
    images = client(server, "ec2").describe_images(
        Owners=owners, Filters=[{"Name": "name", "Values": [name]}])["Images"]
    assert images, f"no image for {owners} {name}"
    return max(images, key=lambda image: image["CreationDate"])


@pytest.mark.parametrize(("owners", "pattern", "expected"), [
    (["099720109477"], JAMMY, "ubuntu-jammy-22.04-amd64-server-20240207"),
    (["099720109477"], "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-arm64-server-*",
     "ubuntu-noble-24.04-arm64-server-20240605"),
    (["099720109477"], "ubuntu/images/hvm-ssd/ubuntu-*-amd64-server-*",
     "ubuntu-jammy-22.04-amd64-server-20240207"),
    (["amazon"], "amzn2-ami-hvm-*-x86_64-gp2", "amzn2-ami-hvm-2.0.20240306.2-x86_64-gp2"),
    (["137112412989"], "al2023-ami-2023.*-x86_64",
     "al2023-ami-2023.3.20240304.0-kernel-6.1-x86_64"),
    (["amazon"], "Windows_Server-2022-English-Full-Base-*",
     "Windows_Server-2022-English-Full-Base-2024.02.14"),
    (["136693071363"], "debian-12-amd64-*", "debian-12-amd64-20240201-1644"),
])
def test_most_recent_image_comes_from_our_catalogue(moto, owners, pattern, expected):
    image = most_recent(moto, owners, pattern)
    assert image["Name"].endswith(expected)
    assert image["ImageId"].startswith("ami-0a1b2c3d4e5f6")


def test_owner_filter_excludes_other_owners(moto):
    images = client(moto, "ec2").describe_images(
        Owners=["099720109477"], Filters=[{"Name": "name", "Values": ["amzn2-ami-*"]}])["Images"]
    assert images == []


PLAN_TF = f"""
data "aws_ami" "ubuntu" {{
  most_recent = true
  owners      = ["099720109477"]
  filter {{
    name   = "name"
    values = ["{JAMMY}"]
  }}
}}

data "aws_availability_zones" "available" {{
  state = "available"
}}

resource "aws_instance" "web" {{
  ami               = data.aws_ami.ubuntu.id
  instance_type     = "t3.micro"
  availability_zone = data.aws_availability_zones.available.names[0]
}}

output "ami_name" {{
  value = data.aws_ami.ubuntu.name
}}
"""


@pytest.mark.slow
def test_terraform_plan_resolves_an_ubuntu_ami_against_the_emulator(fresh, tmp_path):
    try:
        mirror = Settings().mirror_path()
        terraform = Settings().terraform_path()
    except SetupError as exc:
        pytest.skip(str(exc))
    (tmp_path / "home").mkdir()
    (tmp_path / "root").mkdir()
    (tmp_path / "root/main.tf").write_text(PLAN_TF)
    (tmp_path / "cli.tfrc").write_text(
        f'provider_installation {{\n  filesystem_mirror {{\n    path = "{mirror}"\n  }}\n}}\n'
        f'plugin_cache_dir = "{tmp_path / "plugins"}"\n')
    (tmp_path / "plugins").mkdir()
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path / "home"),
           "TF_CLI_CONFIG_FILE": str(tmp_path / "cli.tfrc"), "CHECKPOINT_DISABLE": "1",
           **aws_env(fresh.endpoint, REGION)}

    def tf(*args: str) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([terraform, *args, "-input=false", "-no-color"],
                              cwd=tmp_path / "root", env=env, capture_output=True, text=True,
                              timeout=240)
        assert done.returncode == 0, done.stderr + done.stdout
        return done

    tf("init")
    tf("plan", "-out=plan.bin")
    shown = subprocess.run([terraform, "show", "-json", "plan.bin"], cwd=tmp_path / "root",
                           env=env, capture_output=True, text=True, timeout=120, check=True)
    plan = json.loads(shown.stdout)
    assert plan["planned_values"]["outputs"]["ami_name"]["value"].endswith(
        "ubuntu-jammy-22.04-amd64-server-20240207")
    instance = plan["planned_values"]["root_module"]["resources"][0]["values"]
    assert instance["ami"] == most_recent(fresh, ["099720109477"], JAMMY)["ImageId"]
    assert instance["availability_zone"] == "us-east-1a"


def test_the_server_starts_under_a_deep_cache_directory(tmp_path):
    """Its unix socket lies in the scratch directory under the cache: once over the kernel's
    107 bytes for a deep IACFORGE_CACHE_DIR, and the server "exited during start-up"."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    code = ("from iacforge.verify.terraform.emulator import MotoServer\n"
            "server = MotoServer().start()\n"
            "print(server.endpoint)\n"
            "server.stop()\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=os.environ | {"IACFORGE_CACHE_DIR": str(deep)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("http://127.0.0.1:")
