"""SSRF guard: which URLs, addresses and ports the checker may contact, enforced at connect time.

A URL pre-check alone is not a guard (parsers disagree, DNS changes between check and use), so the
authoritative check lives in the connection classes below: they resolve the host once, refuse any
forbidden address, and connect to exactly the address that was checked, on every hop and retry.
TLS still verifies the certificate against the hostname and sends SNI, because urllib3 wraps the
socket we return using the connection's host name, not the address.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import idna
import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, LocationParseError, NewConnectionError
from urllib3.util import parse_url
from urllib3.util.timeout import _DEFAULT_TIMEOUT

from .config import CheckerConfig
from .errors import DNSFailure, ForbiddenTarget, InvalidTarget
from .watchdog import attach_current

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# Web ports only. The address check already keeps us off private networks; the port rule limits
# what a public host can make us talk to (SMTP, Redis, memcached...) to things that speak HTTP.
# 8000/8008/8080/8888 and 8443 are the alternates that real course sites, wikis and university
# servers actually publish; anything else needs an explicit host:port in allowed_internal_hosts.
ALLOWED_PORTS = frozenset({80, 443, 8000, 8008, 8080, 8443, 8888})

_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL_USE = ipaddress.ip_network("64:ff9b:1::/48")
_CGNAT = ipaddress.ip_network("100.64.0.0/10")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str  # as the connection layer will see it: lower case, IPv6 in brackets
    port: int

    @property
    def host_key(self) -> str:
        """The politeness key: one bucket per host:port."""
        return f"{self.host}:{self.port}"


def embedded_addresses(ip: IPAddress) -> list[IPAddress]:
    """The address itself plus any IPv4 address smuggled inside an IPv6 form."""
    found: list[IPAddress] = [ip]
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            found.append(ip.ipv4_mapped)
        if ip.sixtofour is not None:
            found.append(ip.sixtofour)
        if ip in _NAT64_WELL_KNOWN:
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.packed[:12] == bytes(12) and int(ip) > 1:
            # Deprecated IPv4-compatible form ::a.b.c.d.
            found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip.teredo is not None:
            found.extend(ip.teredo)
    return found


def address_refusal(ip: IPAddress) -> str | None:
    """Why this address must not be contacted, or None when it is a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip in _NAT64_LOCAL_USE:
        return f"{ip} is a local-use NAT64 address"
    for candidate in embedded_addresses(ip):
        if (
            not candidate.is_global
            or candidate.is_multicast
            or candidate.is_reserved
            or candidate.is_unspecified
            or candidate.is_loopback
            or candidate.is_link_local
            or candidate.is_private
            or (isinstance(candidate, ipaddress.IPv4Address) and candidate in _CGNAT)
        ):
            if candidate == ip:
                return f"{ip} is not a public address"
            return f"{ip} embeds {candidate}, which is not a public address"
    return None


def _looks_like_numeric_ipv4(host: str) -> bool:
    """True for inet_aton spellings such as 2130706433, 0x7f000001, 0177.1 or 127.1."""
    labels = host.rstrip(".").split(".")
    if not 1 <= len(labels) <= 4:
        return False
    for label in labels:
        text = label[2:] if label[:2] in ("0x", "0X") else label
        if not text or not all(c in "0123456789abcdefABCDEF" for c in text):
            return False
        if text is label and not label.isdigit():
            return False
    return True


def parse_target(url: str, *, hop: bool = False) -> Target:
    """Pre-check a URL before any socket exists. Raises InvalidTarget or ForbiddenTarget.

    `hop` marks a redirect target: a bad scheme there is the server sending us somewhere we refuse
    to go (forbidden_target), while in the input it is simply not a web link (invalid_url).
    """
    if not isinstance(url, str) or not url.strip():
        raise InvalidTarget("empty URL")
    if any(ord(c) < 0x21 or c == "\x7f" for c in url):
        raise InvalidTarget("URL contains whitespace or control characters")
    try:
        parsed = parse_url(url)
        split = urlsplit(url)
        split_port = split.port
    except (LocationParseError, ValueError) as exc:
        raise InvalidTarget(f"unparseable URL: {exc}") from exc
    scheme = (parsed.scheme or "").lower()
    if scheme not in ALLOWED_SCHEMES:
        error = ForbiddenTarget if hop else InvalidTarget
        raise error(f"scheme {scheme or '(none)'!r} is not http or https", rule="guard-scheme")
    if not parsed.host:
        raise InvalidTarget("URL has no host")
    host = parsed.host.lower()
    # requests connects where urllib3's parser points; if the standard library reads the same URL
    # differently (the `\@` trick), somebody is playing games with parsers. Refuse outright.
    other = _idna(split.hostname or "")
    if other != host.strip("[]") or (split_port or DEFAULT_PORTS[scheme]) != (
        parsed.port or DEFAULT_PORTS[scheme]
    ):
        raise ForbiddenTarget(
            f"URL parsers disagree on the host ({host!r} vs {other!r})", rule="guard-ambiguous-url"
        )
    if not host.startswith("[") and _looks_like_numeric_ipv4(host):
        try:
            canonical = str(ipaddress.IPv4Address(host))
        except ValueError:
            canonical = None
        if canonical != host:
            raise ForbiddenTarget(f"non-canonical numeric host {host!r}", rule="guard-numeric-host")
    return Target(scheme=scheme, host=host, port=parsed.port or DEFAULT_PORTS[scheme])


class AddressPolicy:
    """Decides per host:port whether the address check and port rule apply."""

    def __init__(self, config: CheckerConfig) -> None:
        self.config = config
        self.allowed = config.allowed_internal_hosts

    def is_internal_allowed(self, host: str, port: int) -> bool:
        host = _bracket(host.lower().rstrip("."))
        return host in self.allowed or f"{host}:{port}" in self.allowed

    def check_port(self, host: str, port: int) -> None:
        if port in ALLOWED_PORTS or f"{_bracket(host.lower().rstrip('.'))}:{port}" in self.allowed:
            return
        raise ForbiddenTarget(f"port {port} is not an allowed web port", rule="guard-port")

    def check_target(self, target: Target) -> None:
        """Cheap refusals before connecting; the connection layer re-checks authoritatively."""
        ip = _ip_literal(target.host)
        if ip is not None and not self.is_internal_allowed(target.host, target.port):
            reason = address_refusal(ip)
            if reason:
                raise ForbiddenTarget(reason, rule="guard-private-address")
        self.check_port(target.host, target.port)

    def resolve(self, host: str, port: int) -> list[tuple[Any, ...]]:
        """Resolve once; refuse if any answer is forbidden (mixed answers smell of rebinding)."""
        self.check_port(host, port)
        bare = host.strip("[]").rstrip(".")
        ip = _ip_literal(bare)
        if ip is not None:
            family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
            sockaddr: tuple[Any, ...] = (
                (str(ip), port, 0, 0) if ip.version == 6 else (str(ip), port)
            )
            infos: list[tuple[Any, ...]] = [(family, socket.SOCK_STREAM, 6, "", sockaddr)]
        else:
            try:
                infos = list(self.config.resolve(bare, port))
            except (OSError, UnicodeError) as exc:
                raise DNSFailure(f"cannot resolve {bare!r}: {exc}") from exc
            if not infos:
                raise DNSFailure(f"no address for {bare!r}")
        if not self.is_internal_allowed(host, port):
            for info in infos:
                reason = address_refusal(ipaddress.ip_address(info[4][0].split("%")[0]))
                if reason:
                    raise ForbiddenTarget(f"{host} -> {reason}", rule="guard-private-address")
        return infos


def _idna(host: str) -> str:
    """The host as urllib3 will send it: lower case, internationalized names IDNA-encoded."""
    host = host.lower()
    if host.isascii():
        return host
    try:
        return idna.encode(host, strict=True, std3_rules=True).decode("ascii")
    except idna.IDNAError as exc:
        raise InvalidTarget(f"invalid internationalized host {host!r}: {exc}") from exc


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None


def _bracket(host: str) -> str:
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


class _GuardedConnectionMixin:
    """Overrides urllib3's _new_conn: resolve once, check, connect to the checked address."""

    policy: AddressPolicy

    def _new_conn(self) -> socket.socket:
        conn: Any = self
        infos = self.policy.resolve(conn._dns_host, conn.port)
        last_error: OSError | None = None
        for family, socktype, proto, _canon, sockaddr in infos:
            sock = socket.socket(family, socktype, proto)
            try:
                for option in conn.socket_options or ():
                    sock.setsockopt(*option)
                if conn.timeout is not _DEFAULT_TIMEOUT:
                    sock.settimeout(conn.timeout)
                if conn.source_address:
                    sock.bind(conn.source_address)
                sock.connect(sockaddr)
                return sock
            except TimeoutError as exc:
                sock.close()
                raise ConnectTimeoutError(
                    conn, f"Connection to {conn.host} timed out ({conn.timeout})"
                ) from exc
            except OSError as exc:
                sock.close()
                last_error = exc
        raise NewConnectionError(conn, f"Failed to establish a new connection: {last_error}")


def _pool_classes(policy: AddressPolicy) -> dict[str, type]:
    http_conn = type(
        "GuardedHTTPConnection", (_GuardedConnectionMixin, HTTPConnection), {"policy": policy}
    )
    https_conn = type(
        "GuardedHTTPSConnection", (_GuardedConnectionMixin, HTTPSConnection), {"policy": policy}
    )
    return {
        "http": type(
            "GuardedHTTPConnectionPool",
            (_WatchedPoolMixin, HTTPConnectionPool),
            {"ConnectionCls": http_conn},
        ),
        "https": type(
            "GuardedHTTPSConnectionPool",
            (_WatchedPoolMixin, HTTPSConnectionPool),
            {"ConnectionCls": https_conn},
        ),
    }


class _WatchedPoolMixin:
    """Lets the fetcher's deadline watch see the connection each request uses (new or reused)."""

    def _get_conn(self, timeout: float | None = None) -> Any:
        connection = super()._get_conn(timeout)  # type: ignore[misc]
        attach_current(connection)
        return connection


class GuardedAdapter(HTTPAdapter):
    """A requests adapter whose every connection goes through the AddressPolicy."""

    def __init__(self, policy: AddressPolicy, **kwargs: Any) -> None:
        self.policy = policy
        super().__init__(max_retries=0, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _pool_classes(self.policy)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        # A proxy would connect on our behalf to an address we never checked.
        raise ForbiddenTarget("proxies are not allowed", rule="guard-proxy")

    def __setstate__(self, state: dict[str, Any]) -> None:
        raise TypeError("GuardedAdapter cannot be unpickled")


class GuardedSession(requests.Session):
    """A Session that never follows redirects itself.

    Even with allow_redirects=False, requests prepares `response.next` by running
    resolve_redirects, which reads the redirect's whole body (`resp.content`) with no cap and no
    deadline: a 301 with a drip or bomb body would escape both. Redirects are walked by
    fetch_following_redirects instead, so this generator yields nothing.
    """

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return iter(())


def build_session(config: CheckerConfig) -> requests.Session:
    """A requests.Session that only ever connects to addresses the guard accepted."""
    session = GuardedSession()
    # Ignore HTTP(S)_PROXY, ALL_PROXY, NO_PROXY, .netrc and REQUESTS_CA_BUNDLE overrides.
    session.trust_env = False
    session.proxies = {}
    adapter = GuardedAdapter(
        AddressPolicy(config),
        pool_connections=64,
        pool_maxsize=max(4, config.per_host_concurrency * 2),
    )
    # Mount on the bare schemes and drop requests' defaults so nothing unguarded remains.
    session.adapters.clear()
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    session.headers["User-Agent"] = config.user_agent
    session.headers["Accept"] = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"
    return session
