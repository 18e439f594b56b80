"""The network safety net itself: refusals happen before the kernel is asked, in this process and
in every Python process the tests start, and each one is reported.

Every attempt below is made on a socket bound to the loopback device where the platform allows
it, and only once the guard is known to be in place: were the guard broken, the attempt could
still not leave the machine.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import socket
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import NETGUARD, ChildReports, OffMachineAddress
from tests.netguard import sitecustomize as netguard

METADATA = ("169.254.169.254", 80)


@pytest.fixture
def listener():
    server = socket.create_server(("127.0.0.1", 0))
    yield server
    server.close()


def loopback_only_socket() -> socket.socket:
    """A TCP socket that the kernel would only ever route through `lo` (needs CAP_NET_RAW)."""
    sock = socket.socket()
    with contextlib.suppress(OSError, AttributeError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
    return sock


def test_the_guard_is_installed_in_the_test_process():
    assert netguard.installed() is NETGUARD


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.5", True),
        ("::1", True),
        ("[::1]", True),
        ("::ffff:127.0.0.1", True),
        ("localhost", True),
        ("api.localhost", True),
        ("169.254.169.254", False),
        ("::ffff:169.254.169.254", False),
        ("10.0.0.1", False),
        ("0.0.0.0", False),
        ("example.com", False),
        ("localhost.example.com", False),
    ],
)
def test_only_loopback_addresses_and_names_count_as_this_machine(host, loopback):
    assert netguard.is_loopback_host(host) is loopback


def test_a_connect_off_the_machine_is_refused_before_the_kernel_sees_it(connections, listener):
    assert netguard.installed() is NETGUARD  # never try without the guard in place
    connections.tolerate_refusals()  # the refusal is what this test is about
    sock = loopback_only_socket()
    sock.setblocking(False)
    try:
        with pytest.raises(OffMachineAddress) as caught:
            sock.connect(METADATA)
        # A connect the kernel had begun would leave this socket busy (EALREADY): it is not.
        sock.settimeout(5)
        sock.connect(listener.getsockname())
    finally:
        sock.close()

    assert caught.value.errno == errno.ENETUNREACH
    assert connections.refused == [METADATA]
    assert connections.attempts == [METADATA, listener.getsockname()]


def test_connect_ex_and_datagrams_are_refused_the_same_way(connections):
    assert netguard.installed() is NETGUARD
    connections.tolerate_refusals()
    with loopback_only_socket() as tcp, pytest.raises(OffMachineAddress):
        tcp.connect_ex(METADATA)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp, pytest.raises(OffMachineAddress):
        udp.sendto(b"x", ("169.254.169.254", 53))

    assert connections.refused == [METADATA, ("169.254.169.254", 53)]


def test_a_refused_connect_fails_the_test_that_made_it(connections):
    connections.only()  # refuse everything, loopback included: nothing can leave either way
    with socket.socket() as sock, pytest.raises(OffMachineAddress):
        sock.connect(("127.0.0.1", 9))

    assert connections.failures() == [("127.0.0.1", 9)]  # what the fixture fails the test on
    connections.tolerate_refusals()


def test_only_narrows_the_test_to_the_servers_it_names(connections, listener):
    other = socket.create_server(("127.0.0.1", 0))
    unlisted = other.getsockname()
    connections.only(listener.getsockname())
    connections.tolerate_refusals()
    try:
        with socket.create_connection(listener.getsockname(), timeout=5):
            pass
        with pytest.raises(OffMachineAddress):
            socket.create_connection(unlisted, timeout=5)
    finally:
        other.close()

    assert connections.refused == [unlisted]


def test_names_off_the_machine_are_not_resolved(connections):
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("metadata.google.internal", 80)
    with pytest.raises(OSError):
        socket.gethostbyname("example.com")

    assert socket.getaddrinfo("localhost", 80)  # loopback names still resolve
    assert connections.lookups == ["metadata.google.internal", "example.com"]
    assert connections.refused == []  # a refused lookup sends nothing: not a failure


# Subprocesses ------------------------------------------------------------------------------------

CHILD = textwrap.dedent(
    """
    import json, os, socket, sys

    # Never try without the guard in place; and where the platform allows, on a socket the
    # kernel would only route through lo.
    if getattr(socket.socket.connect, "__netguard__", None) is None:
        sys.exit("the network guard is not installed: not even trying")

    def attempt(label):
        sock = socket.socket()
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"lo")
        except (OSError, AttributeError):
            pass
        sock.setblocking(False)
        try:
            sock.connect(("169.254.169.254", 80))
            refused = None
        except OSError as exc:
            refused = [type(exc).__name__, exc.errno]
        # A connect the kernel had begun would leave the socket busy (EALREADY): it is not.
        sock.settimeout(5)
        sock.connect(("127.0.0.1", int(sys.argv[1])))
        sock.close()
        print(json.dumps({"who": label, "pid": os.getpid(), "refused": refused}), flush=True)

    attempt("process")
    child = os.fork()  # a Celery prefork pool, checklinks' shards
    if child == 0:
        attempt("forked child")
        os._exit(0)
    os.waitpid(child, 0)
    """
)


def test_a_subprocess_cannot_connect_off_the_machine_and_its_refusal_is_reported(
    tmp_path, listener
):
    # This test's own report file: the session's would (rightly) fail it.
    report = tmp_path / "refusals.jsonl"
    env = {**os.environ, netguard.REPORT_VARIABLE: str(report)}  # PYTHONPATH as the session set it
    port = str(listener.getsockname()[1])

    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, port],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, err = child.communicate(timeout=60)

    assert child.returncode == 0, err
    seen = [json.loads(line) for line in out.splitlines()]
    assert [s["who"] for s in seen] == ["process", "forked child"]
    assert all(s["refused"] == ["OffMachineAddress", errno.ENETUNREACH] for s in seen)
    # What the `connections` fixture reads after each test: both refusals, each with its pid.
    refusals = ChildReports(str(report)).new_refusals()
    assert len(refusals) == 2
    for s, refusal in zip(seen, refusals, strict=True):
        assert "169.254.169.254" in refusal and f"pid {s['pid']}" in refusal


def test_subprocesses_are_started_with_the_guard_by_default():
    probe = "import socket; print(getattr(socket.socket.connect, '__netguard__', None) is not None)"

    completed = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )

    assert completed.stdout.strip() == "True", completed.stderr
    assert netguard.HOOK_DIRECTORY in os.environ["PYTHONPATH"].split(os.pathsep)
