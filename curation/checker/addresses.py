"""Which URLs, addresses and ports the checker may contact: the rules of the SSRF guard.

parse_target is the pre-check of a URL before any socket exists (scheme, a host both URL parsers
agree on, no numeric-host tricks), and gives the politeness key. AddressPolicy is what the
guarded connections in guard.py apply at connect time, on the address actually connected to:
resolve once, refuse any answer that is not a public unicast address (IPv4 smuggled inside IPv6
forms included) unless the operator allowed that host, and only web ports.
"""

from __future__ import annotations

import functools
import ipaddress
import re
import socket
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from urllib3.exceptions import LocationParseError
from urllib3.util import parse_url

from .config import CheckerConfig
from .errors import DNSFailure, ForbiddenTarget, InvalidTarget

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


# What inet_aton would read as an IPv4 address: one to four labels, each decimal digits or
# 0x-prefixed hex, and any trailing dots (2130706433, 0x7f000001, 0177.1, 127.1, 127.0.0.1.).
_NUMERIC_IPV4 = re.compile(
    r"(?:[0-9]+|0[xX][0-9a-fA-F]+)(?:\.(?:[0-9]+|0[xX][0-9a-fA-F]+)){0,3}\.*"
)
# The one spelling of an IPv4 address that ipaddress prints back unchanged.
_CANONICAL_IPV4 = re.compile(
    r"(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}"
    r"(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
)
# Whitespace and control characters: never in a URL as typed or sent.
_CONTROL_OR_SPACE = re.compile(r"[\x00-\x20\x7f]")


def _looks_like_numeric_ipv4(host: str) -> bool:
    """True for inet_aton spellings such as 2130706433, 0x7f000001, 0177.1 or 127.1."""
    return _NUMERIC_IPV4.fullmatch(host) is not None


def parse_target(url: str, *, hop: bool = False) -> Target:
    """Pre-check a URL before any socket exists. Raises InvalidTarget or ForbiddenTarget.

    `hop` marks a redirect target: a bad scheme there is the server sending us somewhere we refuse
    to go (forbidden_target), while in the input it is simply not a web link (invalid_url).
    """
    if isinstance(url, str):
        # A pure function of its arguments, asked about a URL again within moments (an input
        # line and its host key, a redirect target and its hop): remember the last few. Small
        # on purpose: entries kept longer only cost memory (refusals are not cached).
        return _parse_target_cached(url, hop)
    return _parse_target(url, hop=hop)


def _parse_target(url: str, *, hop: bool = False) -> Target:
    if not isinstance(url, str) or not url.strip():
        raise InvalidTarget("empty URL")
    if _CONTROL_OR_SPACE.search(url):
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
    if (
        not host.startswith("[")
        and _looks_like_numeric_ipv4(host)
        and not _CANONICAL_IPV4.fullmatch(host)
    ):
        raise ForbiddenTarget(f"non-canonical numeric host {host!r}", rule="guard-numeric-host")
    return Target(scheme=scheme, host=host, port=parsed.port or DEFAULT_PORTS[scheme])


@functools.lru_cache(maxsize=256)
def _parse_target_cached(url: str, hop: bool) -> Target:
    return _parse_target(url, hop=hop)


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
    import idna  # Only internationalized names need it.

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
