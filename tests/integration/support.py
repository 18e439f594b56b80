"""Helpers shared by the monitoring tests (unit and real-process)."""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import pytest

from curation.checker.outcomes import CheckResult, Hop, Outcome


def result(
    outcome: str | Outcome,
    *,
    url: str = "https://example.test/page",
    status: int | None = None,
    final_url: str | None = None,
    redirects: list[Hop] | None = None,
    rule: str = "test",
) -> CheckResult:
    return CheckResult(
        url=url,
        outcome=Outcome(outcome),
        status_code=status,
        final_url=final_url,
        redirects=redirects or [],
        elapsed_ms=5,
        rule=rule,
    )


def forbid_off_machine_connections(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test on any connect() to a non-loopback address (these machines have an
    answering 169.254.169.254: nothing may ever try it)."""
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex

    def allowed(address: Any) -> bool:
        if not isinstance(address, tuple):
            return True
        try:
            return ipaddress.ip_address(address[0]).is_loopback
        except ValueError:
            return False

    def connect(sock: socket.socket, address: Any) -> None:
        if not allowed(address):
            raise AssertionError(f"test tried to connect to {address!r}")
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> int:
        if not allowed(address):
            raise AssertionError(f"test tried to connect to {address!r}")
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


def allow_loopback(settings, *host_ports: str) -> None:
    """Let the checker reach the tests' loopback servers, fast and without per-host waits."""
    settings.LINKCHECK_ALLOWED_INTERNAL_HOSTS = frozenset(host_ports)
    settings.LINKCHECK_PER_HOST_INTERVAL = 0.0
    settings.LINKCHECK_PER_HOST_CONCURRENCY = 4
    settings.LINKCHECK_TIMEOUT = 5.0


def server_hosts(httpserver) -> frozenset[str]:
    """The host:port forms a pytest-httpserver URL may use. The server is session-scoped: if an
    earlier module started it on "localhost", url_for() says localhost, not 127.0.0.1."""
    port = httpserver.port
    return frozenset({f"{httpserver.host}:{port}", f"127.0.0.1:{port}", f"localhost:{port}"})
