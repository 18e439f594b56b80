"""Fixtures for the checker tests: real loopback servers and a fake resolver, so no name ever
reaches a real DNS server. The socket layer that refuses to leave the machine is the suite's
one network guard (tests/conftest.py): its `connections` fixture, with `.only(server, ...)`,
is what these tests narrow and look at."""

from __future__ import annotations

import shutil
import socket
import ssl
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from curation.checker.config import CheckerConfig
from tests.checker.servers import ArrivalServer, ScriptedServer, page
from tests.conftest import service_missing


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


# TLS: a self-signed certificate for secure.test, and a loopback server presenting it.


@pytest.fixture(scope="session")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    if shutil.which("openssl") is None:
        service_missing("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
         "-keyout", str(key), "-out", str(cert), "-subj", "/CN=secure.test",
         "-addext", "subjectAltName=DNS:secure.test"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_server(make_server, certificate) -> ScriptedServer:
    cert, key = certificate
    seen: list[str | None] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda sock, name, ctx: seen.append(name)
    server = make_server(tls_context=context)
    server.routes["/"] = page()
    server.sni = seen  # type: ignore[attr-defined]
    return server


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


@pytest.fixture
def wire():
    """A loopback server that stamps each request head's arrival with the kernel's time."""
    server = ArrivalServer()
    yield server
    server.stop()
