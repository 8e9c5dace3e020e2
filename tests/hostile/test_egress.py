"""Threat: egress: any connection but the one to the loopback emulator the verifier started.

(Terraform's own attempts, a remote-exec provisioner dialling the host, are in
test_provisioners; a provider pointed at the host's loopback spends a minute in retries.)
"""

import socket
import time

from iacforge.verify.sandbox.process import run_process
from iacforge.verify.terraform.emulator import aws_env, shared_server

from .conftest import everything

DIAL = ("import socket, sys\n"
        "for host, port in [('127.0.0.1', int(sys.argv[-1])), ('1.1.1.1', 443), "
        "('169.254.169.254', 80)]:\n"
        "    try:\n        socket.create_connection((host, port), timeout=3)\n"
        "        print('connected', host)\n"
        "    except OSError:\n        print('refused', host)\n")


def test_a_program_in_the_sandbox_reaches_no_listener_while_outside_it_would(
        terraform, listener, tmp_path):
    outside = run_process(["python3", "-c", DIAL, str(listener.port)], cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin"}, timeout=30)
    assert "connected 127.0.0.1" in outside.stdout  # the control: the listener is reachable
    before = listener.accepted
    inside = terraform.sandbox(["python3", "-c", DIAL, str(listener.port)], cwd=tmp_path,
                               env={"PATH": "/usr/bin:/bin"}, timeout=30)
    assert inside.stdout.split().count("refused") == 3, everything(inside)
    assert listener.accepted == before


def test_only_the_emulators_port_is_carried_in(terraform, listener, tmp_path):
    moto = shared_server()
    code = ("import socket, sys, urllib.request\n"
            "print(urllib.request.urlopen(sys.argv[1] + '/').status)\n" + DIAL)
    env = {"PATH": "/usr/bin:/bin", **aws_env(moto.endpoint, "us-east-1")}
    out = terraform.sandbox(["python3", "-c", code, moto.endpoint, str(listener.port)],
                            cwd=tmp_path, env=env, timeout=30)
    assert out.stdout.split()[0] == "200", everything(out)
    assert out.stdout.split().count("refused") == 3
    assert listener.accepted == 0


def test_the_listener_fixture_counts_connections(listener):
    socket.create_connection(("127.0.0.1", listener.port)).close()
    deadline = time.monotonic() + 5
    while not listener.accepted and time.monotonic() < deadline:
        time.sleep(0.01)
    assert listener.accepted == 1
