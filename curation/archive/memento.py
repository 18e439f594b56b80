"""The Memento protocol's pieces (RFC 7089) and the Wayback availability API's answer, as
plain functions: dates in the forms archives speak, link-format TimeMaps, the closest memento.

Nothing here makes a request (lookup.py does, through the guarded client).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

# Wayback-style addresses carry the capture time as 14 digits: /web/20130102030405/...
WAYBACK_TIMESTAMP = re.compile(r"/(\d{14})(?:[a-z]{2}_)?/")
# One entry of a link-format document (RFC 6690): <uri> followed by ;-separated parameters.
LINK_ENTRY = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,<=\s]+\s*(?:=\s*(?:\"[^\"]*\"|[^;,<]*))?)*)")
LINK_PARAM = re.compile(r";\s*([^=;\s]+)\s*(?:=\s*(\"[^\"]*\"|[^;,]*))?")


@dataclass(frozen=True)
class Memento:
    """An archived copy: its address and, when the archive said, when it was captured."""

    url: str
    captured_at: datetime | None


def http_date(moment: datetime) -> str:
    """`moment` as an HTTP date (RFC 7231, always GMT), the form Accept-Datetime takes."""
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def wayback_timestamp(moment: datetime) -> str:
    """`moment` as the 14 digits Wayback addresses and its availability API use."""
    return moment.astimezone(UTC).strftime("%Y%m%d%H%M%S")


def parse_http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_wayback_timestamp(value: str | None) -> datetime | None:
    if not value or not value.isascii() or not value.isdigit() or len(value) != 14:
        return None
    try:
        return datetime.strptime(value, "%Y%m%d%H%M%S").replace(tzinfo=UTC)
    except ValueError:
        return None


def timestamp_in_url(url: str) -> datetime | None:
    """The capture time a Wayback-style memento address carries, if it carries one."""
    found = WAYBACK_TIMESTAMP.search(url)
    return parse_wayback_timestamp(found.group(1)) if found else None


def parse_links(text: str) -> list[tuple[str, dict[str, str]]]:
    """A Link header or a link-format document as (uri, {param: value}) pairs, in order.

    `rel` values are kept whole ("first memento"); quotes around values are removed.
    Malformed stretches are skipped, never raised: an archive's odd answer is not our error.
    """
    links = []
    for match in LINK_ENTRY.finditer(text):
        params: dict[str, str] = {}
        for name, value in LINK_PARAM.findall(match.group(2)):
            params[name.lower()] = (value or "").strip().strip('"')
        links.append((match.group(1).strip(), params))
    return links


def mementos_in(links: list[tuple[str, dict[str, str]]]) -> list[Memento]:
    """The entries whose rel names a memento, with their datetime when it parses."""
    found = []
    for uri, params in links:
        if "memento" in params.get("rel", "").split() and uri:
            found.append(Memento(url=uri, captured_at=parse_http_date(params.get("datetime"))))
    return found


def closest_before(mementos: list[Memento], moment: datetime) -> Memento | None:
    """The last memento captured at or before `moment`; else the earliest one after it.

    A copy from before the page started failing shows what the curator recommended; one
    from after may already be the error page, so it is only the second choice.
    """
    dated = [m for m in mementos if m.captured_at is not None]
    before = [m for m in dated if m.captured_at <= moment]
    if before:
        return max(before, key=lambda m: m.captured_at)
    after = [m for m in dated if m.captured_at > moment]
    if after:
        return min(after, key=lambda m: m.captured_at)
    return None


def parse_availability(body: bytes) -> Memento | None:
    """The closest snapshot of a Wayback availability answer, None when it names none.

    {"archived_snapshots": {"closest": {"available": true, "url": ..., "timestamp": ...}}};
    an empty `archived_snapshots`, a snapshot marked unavailable or not a 2xx, or a body that
    is not that JSON at all, all mean "nothing found here".
    """
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    closest = (data.get("archived_snapshots") or {}) if isinstance(data, dict) else {}
    closest = closest.get("closest") if isinstance(closest, dict) else None
    if not isinstance(closest, dict) or closest.get("available") is False:
        return None
    url = closest.get("url")
    status = str(closest.get("status") or "200")
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return None
    if not status.startswith("2"):
        return None
    return Memento(url=url, captured_at=parse_wayback_timestamp(str(closest.get("timestamp"))))
