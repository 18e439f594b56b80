"""Checker settings as one immutable value, built from plain values (never from Django)."""

from __future__ import annotations

import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from . import envparse

VERSION = "0.1"
DEFAULT_CONTACT_URL = "https://syllabus.invalid/about-our-checker"

# getaddrinfo-compatible: (host, port) -> list of addrinfo tuples. Injected by tests so that no
# name is ever sent to a real resolver (the machines running them have no internet).
Resolver = Callable[[str, int], list[tuple[Any, ...]]]


class ProbeCache(Protocol):
    """Where the random-sibling probe keeps its answers (probe.py), by key, as JSON-friendly
    dicts; and a short claim per key so that only one check probes a directory at a time."""

    def get(self, key: str) -> dict[str, Any] | None: ...

    def set(self, key: str, value: dict[str, Any], ttl_seconds: float) -> None: ...

    def claim(self, key: str, ttl_seconds: float) -> str | None:
        """A token when this caller may probe the key now, None when another one is at it."""
        ...

    def release(self, key: str, token: str) -> None: ...


def system_resolver(host: str, port: int) -> list[tuple[Any, ...]]:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


@dataclass(frozen=True)
class CheckerConfig:
    connect_timeout: float = 5.0
    read_timeout: float = 10.0
    # Total budget for one URL: every hop, retry and body read shares it. Waiting for our own
    # per-host politeness slot does not count, up to max_queue_wait seconds per URL in all.
    deadline: float = 30.0
    max_queue_wait: float = 60.0
    max_redirects: int = 10
    # Cap on body bytes *after* decompression, for callers that want a whole page (metadata).
    max_body_bytes: int = 1024 * 1024
    # What the checker itself reads of an HTML page to spot soft-404s and bot walls.
    sniff_bytes: int = 64 * 1024
    retries: int = 2
    backoff: float = 0.5
    max_backoff: float = 4.0
    # Longest Retry-After we are willing to sit out inside one check; beyond it -> blocked.
    retry_after_budget: float = 10.0
    contact_url: str = DEFAULT_CONTACT_URL
    allowed_internal_hosts: frozenset[str] = frozenset()
    concurrency: int = 32
    per_host_concurrency: int = 2
    per_host_interval: float = 1.0
    # How many input URLs check_many may hold in memory while looking for a host with a free slot.
    lookahead: int = 2000
    # The random-sibling probe (probe.py): on a 2xx page the rules cannot settle, or the first
    # deep link of a directory, ask for a random address beside it to learn how the site
    # answers unknown ones. A page it may be compared with is read up to probe_body_bytes.
    probe: bool = True
    probe_body_bytes: int = 256 * 1024
    probe_ttl: float = 24 * 3600.0
    # Where probe answers are kept (Redis in the app, see curation/outbound.py); None: the
    # engine's in-process cache.
    probe_cache: ProbeCache | None = field(default=None, compare=False, repr=False)
    resolver: Resolver | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.concurrency < 1 or self.per_host_concurrency < 1:
            raise ValueError("concurrency and per_host_concurrency must be at least 1")
        if self.max_redirects < 0 or self.retries < 0:
            raise ValueError("max_redirects and retries must not be negative")
        if min(self.connect_timeout, self.read_timeout, self.deadline) <= 0:
            raise ValueError("timeouts must be positive")
        if self.max_queue_wait < 0:
            raise ValueError("max_queue_wait must not be negative")
        if self.probe_body_bytes < 1 or self.probe_ttl <= 0:
            raise ValueError("probe_body_bytes and probe_ttl must be positive")
        # Retries are bounded by count and by the per-URL deadline; cap them anyway so a typo
        # in a setting cannot turn one check into minutes of hammering.
        if self.retries > 10:
            raise ValueError("retries must be at most 10")

    @property
    def user_agent(self) -> str:
        return f"SyllabusLinkChecker/{VERSION} (+{self.contact_url})"

    def resolve(self, host: str, port: int) -> list[tuple[Any, ...]]:
        return (self.resolver or system_resolver)(host, port)


def parse_allowed_hosts(value: str) -> frozenset[str]:
    """Parse LINKCHECK_ALLOWED_INTERNAL_HOSTS: comma-separated "host" or "host:port" entries."""
    entries = set()
    for raw in value.split(","):
        entry = raw.strip().lower()
        if not entry:
            continue
        host, port = _split_host_port(entry)
        if not host or any(c in host for c in "/@?#\\ "):
            raise ValueError(f"invalid host in allowed internal hosts: {raw.strip()!r}")
        entries.add(f"{host}:{port}" if port is not None else host)
    return frozenset(entries)


def _split_host_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):
        end = entry.find("]")
        if end == -1:
            raise ValueError(f"invalid IPv6 host: {entry!r}")
        host, rest = entry[: end + 1], entry[end + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise ValueError(f"invalid host entry: {entry!r}")
        port_text = rest[1:]
    elif entry.count(":") == 1:
        host, port_text = entry.split(":")
    elif ":" in entry:
        # A bare IPv6 address without brackets: no port possible.
        return f"[{entry}]", None
    else:
        return entry, None
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(f"invalid port in allowed internal hosts: {entry!r}")
    return host, int(port_text)


@dataclass(frozen=True)
class Variable:
    """One LINKCHECK_* environment variable: how to read it, its default, the field it sets."""

    parse: Callable[[str], Any]
    default: str
    field: str


# The LINKCHECK_* variables, named here only. config.settings exposes each as a Django
# setting of the same name, and the Django-free `checklinks --input` reads them directly.
ENVIRONMENT: dict[str, Variable] = {
    "LINKCHECK_ALLOWED_INTERNAL_HOSTS": Variable(parse_allowed_hosts, "", "allowed_internal_hosts"),
    "LINKCHECK_CONTACT_URL": Variable(str, DEFAULT_CONTACT_URL, "contact_url"),
    "LINKCHECK_CONCURRENCY": Variable(
        envparse.parse_int(1), str(CheckerConfig.concurrency), "concurrency"
    ),
    "LINKCHECK_PER_HOST_CONCURRENCY": Variable(
        envparse.parse_int(1), str(CheckerConfig.per_host_concurrency), "per_host_concurrency"
    ),
    "LINKCHECK_PER_HOST_INTERVAL": Variable(
        envparse.parse_float(0.0), str(CheckerConfig.per_host_interval), "per_host_interval"
    ),
    # Off: no random-sibling probe, the rules alone judge a page (to compare with a tool that
    # has none, or while a site owner asks why we request addresses that do not exist).
    "LINKCHECK_PROBE": Variable(envparse.parse_bool, "true", "probe"),
    # Shorter than the engine's own 30 s: a command-line run or a worker batch should not sit on
    # one slow page for half a minute.
    "LINKCHECK_TIMEOUT": Variable(envparse.parse_float(0.1), "10", "deadline"),
}


def read_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The LINKCHECK_* values from an environment, defaults for the unset or blank ones.

    Raises ValueError naming the variable and the value when one is malformed.
    """
    return {
        name: envparse.read(environ, name, var.parse(var.default), var.parse)
        for name, var in ENVIRONMENT.items()
    }


def config_from_settings(values: Mapping[str, Any], **overrides: Any) -> CheckerConfig:
    """Build a CheckerConfig from LINKCHECK_* values (missing keys keep their defaults)."""
    kwargs: dict[str, Any] = {
        ENVIRONMENT[name].field: value
        for name, value in values.items()
        if name in ENVIRONMENT and value is not None
    }
    allowed = kwargs.get("allowed_internal_hosts")
    if isinstance(allowed, str):
        kwargs["allowed_internal_hosts"] = parse_allowed_hosts(allowed)
    elif allowed is not None:
        kwargs["allowed_internal_hosts"] = frozenset(allowed)
    kwargs.update({k: v for k, v in overrides.items() if v is not None})
    deadline = kwargs.get("deadline")
    if deadline is not None:
        # Half the budget at most for one wait, so that a server that hangs once leaves time for
        # the retry that a transient failure deserves (a hang that lasts ends at the deadline).
        kwargs.setdefault("connect_timeout", min(CheckerConfig.connect_timeout, deadline / 2))
        kwargs.setdefault("read_timeout", min(CheckerConfig.read_timeout, deadline / 2))
    return CheckerConfig(**kwargs)
