"""The metadata record that page and oEmbed parsing produce, with its size caps."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

TITLE_MAX = 300
DESCRIPTION_MAX = 1000
TEXT_MAX = 200
URL_MAX = 2048

URL_FIELDS = ("canonical_url", "image_url", "favicon_url", "oembed_url")
TEXT_CAPS: dict[str, int] = {
    "title": TITLE_MAX,
    "description": DESCRIPTION_MAX,
    "language": TEXT_MAX,
    "site_name": TEXT_MAX,
    "og_type": TEXT_MAX,
    "author": TEXT_MAX,
    "published": TEXT_MAX,
    "educational_level": TEXT_MAX,
    "kind_hint": TEXT_MAX,
    "content_type": TEXT_MAX,
    "rejected_reason": TEXT_MAX,
    **dict.fromkeys(URL_FIELDS, URL_MAX),
}

REJECTED_TOO_MANY_TAGS = "too-many-og-tags"
REJECTED_CHALLENGE = "challenge-page"


@dataclass
class PageMetadata:
    """What a page says about itself, as inert capped text; `sources` names each field's origin.

    A page that floods OpenGraph tags or is a bot challenge keeps every field empty and says
    why in `rejected_reason`.
    """

    title: str = ""
    description: str = ""
    canonical_url: str = ""
    language: str = ""
    site_name: str = ""
    og_type: str = ""
    image_url: str = ""
    favicon_url: str = ""
    author: str = ""
    published: str = ""
    duration_minutes: int | None = None
    educational_level: str = ""
    is_free: bool | None = None
    kind_hint: str = ""
    reading_minutes: int | None = None
    oembed_url: str = ""
    content_type: str = ""
    sources: dict[str, str] = field(default_factory=dict)
    rejected_reason: str = ""

    @property
    def rejected(self) -> bool:
        return bool(self.rejected_reason)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def fill_missing(self, other: PageMetadata) -> None:
        """Copy into this record the fields it lacks and `other` has (e.g. from oEmbed)."""
        for name in _MERGEABLE:
            if _is_empty(getattr(self, name)) and not _is_empty(getattr(other, name)):
                setattr(self, name, getattr(other, name))
                if name in other.sources:
                    self.sources[name] = other.sources[name]


_MERGEABLE = tuple(
    f.name for f in dataclasses.fields(PageMetadata) if f.name not in ("sources", "rejected_reason")
)


def _is_empty(value: object) -> bool:
    return value is None or value == ""
