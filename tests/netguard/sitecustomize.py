"""The tests' network safety net: nothing the tests run may reach an address off this machine.

One mechanism for the test process and for every Python process the tests start:

- In the test process, tests/conftest.py installs it when it is imported; each test gets a
  ConnectionLog (the `connections` fixture) and fails if anything was refused.
- Subprocesses get it from this file: the session puts this directory on PYTHONPATH and names
  a report file in SYLLABUS_NETGUARD_REPORT, so every Python started by a test (checklinks,
  Celery workers and their forked pool) imports this module as `sitecustomize` at start-up,
  installs the guard, and appends one JSON line per refusal to the report, which the test
  process reads after each test.

Only the standard library here: a subprocess imports this before anything else is on its path.

A refused connect() raises before the kernel is asked, so not even a SYN leaves. Name lookups
of anything but a loopback name fail as an offline resolver would, without a query being sent.
Datagrams sent to an explicit address are checked the same way as connects.
"""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import socket
import sys
import threading
from typing import Any

REPORT_VARIABLE = "SYLLABUS_NETGUARD_REPORT"
HOOK_DIRECTORY = os.path.dirname(os.path.abspath(__file__))
LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})
INET_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class OffMachineAddress(OSError):
    """A connect or send to an address off this machine (or not permitted by .only())."""

    def __init__(self, message: str) -> None:
        super().__init__(errno.ENETUNREACH, message)


def is_loopback_host(host: Any) -> bool:
    """A loopback address or name (127/8, ::1, ::ffff:127.x, localhost and *.localhost)."""
    if host is None:
        return True
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    host = str(host).strip("[]").lower().rstrip(".")
    if host in LOOPBACK_NAMES or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host.split("%")[0])
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def _endpoint(target: Any) -> tuple[str, int]:
    """(host, port) of a server object (.host and .port) or of an address tuple."""
    if isinstance(target, tuple):
        return str(target[0]), int(target[1])
    return str(target.host), int(target.port)


class ConnectionLog:
    """What one test (or the time between tests) tried: every connect, every refusal."""

    def __init__(self) -> None:
        self.attempts: list[Any] = []
        self.refused: list[Any] = []
        self.lookups: list[str] = []  # names refused by the resolver (not a failure)
        self.tolerating = False
        self.permitted: set[tuple[str, int]] | None = None

    def only(self, *servers: Any) -> None:
        """From now on, permit connections to these servers (or (host, port)) and nothing else."""
        self.permitted = {_endpoint(server) for server in servers}

    def tolerate_refusals(self) -> None:
        """The test's inputs may name any address: refusals are still refusals (nothing is
        sent), but they do not fail the test."""
        self.tolerating = True

    def permits(self, address: Any) -> bool:
        if self.permitted is None:
            return True
        return (str(address[0]), int(address[1])) in self.permitted

    def to(self, host: str) -> list[Any]:
        return [a for a in self.attempts if isinstance(a, tuple) and a[0] == host]

    def failures(self) -> list[Any]:
        return [] if self.tolerating else list(self.refused)


class NetGuard:
    """Patches socket's connect, connect_ex, sendto, sendmsg and name lookups, process-wide."""

    def __init__(self, report_path: str | None = None) -> None:
        self.report_path = report_path
        self.outside_tests = ConnectionLog()
        self.log = self.outside_tests
        self._report_lock = threading.Lock()

    # The test process switches logs around each test.

    def begin(self) -> ConnectionLog:
        self.log = ConnectionLog()
        return self.log

    def end(self) -> None:
        self.log = self.outside_tests

    # Checks.

    def check_address(self, sock: Any, address: Any, what: str) -> None:
        if sock.family not in INET_FAMILIES or not isinstance(address, tuple):
            return  # AF_UNIX paths, netlink...: not network traffic.
        log = self.log
        log.attempts.append(address)
        if not is_loopback_host(address[0]):
            self.refuse(log, address, f"{what} to {address!r}: not a loopback address")
        if not log.permits(address):
            self.refuse(log, address, f"{what} to {address!r}: not one of the test's servers")

    def refuse(self, log: ConnectionLog, address: Any, message: str) -> None:
        log.refused.append(address)
        self.report(message)
        raise OffMachineAddress(f"test network: {message} (refused before anything was sent)")

    def check_name(self, host: Any) -> None:
        if not is_loopback_host(host):
            self.log.lookups.append(str(host))
            raise socket.gaierror(socket.EAI_NONAME, f"test network: no DNS for {host!r}")

    def report(self, message: str) -> None:
        if not self.report_path:
            return
        line = json.dumps({"pid": os.getpid(), "argv": sys.argv, "refused": message})
        with self._report_lock:
            # O_APPEND: lines from several processes never interleave.
            fd = os.open(self.report_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)

    # Installation.

    def install(self) -> NetGuard:
        guard = self
        real_connect = socket.socket.connect
        real_connect_ex = socket.socket.connect_ex
        real_sendto = socket.socket.sendto
        real_sendmsg = socket.socket.sendmsg
        real_getaddrinfo = socket.getaddrinfo
        real_gethostbyname = socket.gethostbyname
        real_gethostbyname_ex = socket.gethostbyname_ex
        real_gethostbyaddr = socket.gethostbyaddr

        def connect(sock: socket.socket, address: Any) -> None:
            guard.check_address(sock, address, "connect")
            return real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> int:
            guard.check_address(sock, address, "connect")
            return real_connect_ex(sock, address)

        def sendto(sock: socket.socket, data: Any, *args: Any) -> int:
            guard.check_address(sock, args[-1] if args else None, "sendto")
            return real_sendto(sock, data, *args)

        def sendmsg(sock: socket.socket, buffers: Any, *args: Any) -> int:
            if len(args) >= 3 and args[2] is not None:
                guard.check_address(sock, args[2], "sendmsg")
            return real_sendmsg(sock, buffers, *args)

        def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
            guard.check_name(host)
            return real_getaddrinfo(host, *args, **kwargs)

        def gethostbyname(host: str) -> str:
            guard.check_name(host)
            return real_gethostbyname(host)

        def gethostbyname_ex(host: str) -> Any:
            guard.check_name(host)
            return real_gethostbyname_ex(host)

        def gethostbyaddr(host: str) -> Any:
            # socket.getfqdn() asks this of the machine's own name; it copes with a failure.
            if not is_loopback_host(host):
                guard.log.lookups.append(str(host))
                raise socket.herror(1, f"test network: no reverse DNS for {host!r}")
            return real_gethostbyaddr(host)

        for function in (connect, connect_ex, sendto, sendmsg):
            function.__netguard__ = guard  # type: ignore[attr-defined]
        socket.socket.connect = connect  # type: ignore[method-assign]
        socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
        socket.socket.sendto = sendto  # type: ignore[method-assign,assignment]
        socket.socket.sendmsg = sendmsg  # type: ignore[method-assign]
        socket.getaddrinfo = getaddrinfo
        socket.gethostbyname = gethostbyname
        socket.gethostbyname_ex = gethostbyname_ex
        socket.gethostbyaddr = gethostbyaddr
        return self


def installed() -> NetGuard | None:
    """The guard patched into this process's socket module, if any."""
    return getattr(socket.socket.connect, "__netguard__", None)


def install(report_path: str | None = None) -> NetGuard:
    return installed() or NetGuard(report_path).install()


def read_report(path: str, offset: int = 0) -> tuple[list[dict[str, Any]], int]:
    """The refusals reported to `path` after byte `offset`, and the offset to read on from."""
    try:
        with open(path, "rb") as report:
            report.seek(offset)
            data = report.read()
    except FileNotFoundError:
        return [], offset
    complete = data[: data.rfind(b"\n") + 1]
    entries = [json.loads(line) for line in complete.decode().splitlines() if line.strip()]
    return entries, offset + len(complete)


def _chain_to_the_next_sitecustomize() -> None:
    """Run the sitecustomize this one shadows, if the interpreter has one."""
    from importlib.machinery import PathFinder
    from importlib.util import module_from_spec

    path = [p for p in sys.path if os.path.abspath(p or os.curdir) != HOOK_DIRECTORY]
    spec = PathFinder.find_spec("sitecustomize", path)
    if spec is None or spec.loader is None or spec.origin == os.path.abspath(__file__):
        return
    module = module_from_spec(spec)
    spec.loader.exec_module(module)


if __name__ == "sitecustomize":
    # Started by a test: guard this process (and whatever it forks) from its first line.
    if os.environ.get(REPORT_VARIABLE):
        install(os.environ[REPORT_VARIABLE])
    _chain_to_the_next_sitecustomize()
