"""Fixtures for the checker tests: real loopback servers and a fake resolver, so no name ever
reaches a real DNS server. The socket layer that refuses to leave the machine is the suite's
one network guard (tests/conftest.py): its `connections` fixture, with `.only(server, ...)`,
is what these tests narrow and look at."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from curation.checker.config import CheckerConfig
from tests.checker.servers import ScriptedServer


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
