"""The web archives asked for copies, as configured in ARCHIVES (config/settings.py)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from django.conf import settings


@dataclass(frozen=True)
class Archive:
    """One archive's addresses; a blank one is a way of asking this archive does not offer.

    `timegate`, `timemap`, `web` and `save` are prefixes the page's address is appended to
    (`https://web.archive.org/web/` + url); `availability` is the endpoint that takes
    `?url=...&timestamp=...`.
    """

    name: str
    timegate: str = ""
    timemap: str = ""
    availability: str = ""
    web: str = ""
    save: str = ""

    def timegate_url(self, url: str) -> str:
        return f"{self.timegate}{url}"

    def timemap_url(self, url: str) -> str:
        return f"{self.timemap}{url}"

    def availability_url(self, url: str, timestamp: str) -> str:
        joiner = "&" if "?" in self.availability else "?"
        return f"{self.availability}{joiner}{urlencode({'url': url, 'timestamp': timestamp})}"

    def constructed_url(self, url: str, timestamp: str) -> str:
        return f"{self.web}{timestamp}/{url}"

    def save_url(self, url: str) -> str:
        return f"{self.save}{url}"


def configured_archives() -> list[Archive]:
    """ARCHIVES, in the order they are asked (settings has checked each entry)."""
    fields = ("timegate", "timemap", "availability", "web", "save")
    return [
        Archive(name=entry["name"], **{f: entry.get(f, "") for f in fields})
        for entry in settings.ARCHIVES
    ]
