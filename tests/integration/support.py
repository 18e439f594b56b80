"""Helpers shared by the monitoring tests (unit and real-process)."""

from __future__ import annotations

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
