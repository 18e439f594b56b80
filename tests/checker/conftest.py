"""Fixtures for the checker tests: real loopback servers, a socket layer that refuses to leave
the machine, and a fake resolver so no name ever reaches a real DNS server."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from curation.checker.config import CheckerConfig
from tests.checker.servers import ScriptedServer


class ConnectionLog:
    """Every connect() attempt in the process; refused ones never reach the kernel."""

    def __init__(self) -> None:
        self.attempts: list[Any] = []
        self.refused: list[Any] = []
        self._only: set[tuple[str, int]] | None = None

    def only(self, *servers: ScriptedServer) -> None:
        """From now on, permit connections to these servers and nothing else."""
        self._only = {(s.host, s.port) for s in servers}

    def permits(self, address: Any) -> bool:
        if not isinstance(address, tuple):
            return True  # AF_UNIX paths are not network traffic.
        host, port = address[0], address[1]
        if self._only is not None:
            return (host, port) in self._only
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def to(self, host: str) -> list[Any]:
        return [a for a in self.attempts if isinstance(a, tuple) and a[0] == host]


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> ConnectionLog:
    """Fail any attempt to connect off this machine (or, after .only(), anywhere unlisted)."""
    log = ConnectionLog()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def check(address: Any) -> None:
        log.attempts.append(address)
        if not log.permits(address):
            log.refused.append(address)
            raise AssertionError(f"test code tried to connect to {address!r}")

    def connect(sock: socket.socket, address: Any) -> None:
        check(address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        check(address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    return log


class FakeResolver:
    """getaddrinfo stand-in: names map to addresses given by the test, everything else fails."""

    def __init__(self, names: dict[str, str | list[str]] | None = None) -> None:
        self.names = {k.lower(): v for k, v in (names or {}).items()}
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> list[tuple[Any, ...]]:
        self.lookups.append(host)
        found = self.names.get(host.lower())
        if found is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        infos: list[tuple[Any, ...]] = []
        for address in [found] if isinstance(found, str) else found:
            if ":" in address:
                infos.append((socket.AF_INET6, socket.SOCK_STREAM, 6, "", (address, port, 0, 0)))
            else:
                infos.append((socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port)))
        return infos


@pytest.fixture
def make_server() -> Iterator[Callable[..., ScriptedServer]]:
    started: list[ScriptedServer] = []

    def make(host: str = "127.0.0.1", **kwargs: Any) -> ScriptedServer:
        server = ScriptedServer(host=host, **kwargs).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def server(make_server: Callable[..., ScriptedServer]) -> ScriptedServer:
    return make_server()


def config_for(
    *servers: ScriptedServer | str, resolver: FakeResolver | None = None, **overrides: Any
) -> CheckerConfig:
    """A fast test config that lets the given loopback servers (or host[:port] strings) through."""
    allowed = frozenset(s if isinstance(s, str) else s.host_port for s in servers)
    settings: dict[str, Any] = {
        "allowed_internal_hosts": allowed,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "deadline": 5.0,
        "backoff": 0.01,
        "max_backoff": 0.05,
        "per_host_interval": 0.0,
        "resolver": resolver or FakeResolver(),
    }
    settings.update(overrides)
    return CheckerConfig(**settings)
