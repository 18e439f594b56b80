"""Which links the linter checks: --include/--exclude patterns, the ignore file, the address
classes to leave alone, and the status codes to accept."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

IGNORE_FILE = ".checklinksignore"
_LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def parse_accept(text: str) -> frozenset[int]:
    """`200..299,403` (or `200-299`): the status codes to take as success."""
    codes: set[int] = set()
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        low, sep, high = part.replace("..", "-").partition("-")
        try:
            first, last = int(low), int(high if sep else low)
        except ValueError:
            raise ValueError(f"not a status code or range: {part!r}") from None
        if not 100 <= first <= last <= 599:
            raise ValueError(f"status codes run from 100 to 599: {part!r}")
        codes.update(range(first, last + 1))
    return frozenset(codes)


def compile_patterns(patterns: Iterable[str], origin: str) -> list[re.Pattern[str]]:
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except re.error as exc:
            raise ValueError(f"bad regular expression in {origin}: {pattern!r} ({exc})") from None
    return compiled


def read_ignore_file(path: str | Path) -> list[str]:
    """One regular expression a line; blank lines and `#` comments skipped."""
    with open(path, encoding="utf-8-sig") as handle:
        lines = (line.strip() for line in handle)
        return [line for line in lines if line and not line.startswith("#")]


@dataclass
class Selection:
    include: list[re.Pattern[str]] = field(default_factory=list)
    exclude: list[re.Pattern[str]] = field(default_factory=list)
    # Address classes left alone: any of "loopback", "private", "link-local".
    excluded_classes: frozenset[str] = frozenset()
    accept: frozenset[int] = frozenset()

    def why_excluded(self, url: str) -> str:
        """The rule that leaves `url` unchecked, or "" to check it.

        An --include pattern wins over every exclusion, as in lychee.
        """
        if any(pattern.search(url) for pattern in self.include):
            return ""
        for pattern in self.exclude:
            if pattern.search(url):
                return f"excluded by pattern {pattern.pattern}"
        if self.excluded_classes:
            found = address_class(url)
            if found in self.excluded_classes:
                return f"excluded {found} address"
        return ""


def address_class(url: str) -> str:
    """'loopback', 'private', 'link-local' for a URL naming such an address, else ''.

    Only what the URL spells (an address literal, `localhost`): names are not resolved here,
    and the engine's guard still refuses a name that resolves to such an address.
    """
    try:
        host = (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""
    if host in _LOOPBACK_NAMES or host.endswith(".localhost"):
        return "loopback"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return ""
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_private:
        return "private"
    return ""
