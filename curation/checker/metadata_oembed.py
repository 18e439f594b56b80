"""Read a JSON oEmbed document into the same inert record a page gives."""

from __future__ import annotations

import json

from curation.checker.decode import clean_text
from curation.checker.metadata_types import TEXT_CAPS, PageMetadata
from curation.checker.metadata_values import safe_http_url, seconds_to_minutes

MAX_OEMBED_BYTES = 256 * 1024
SOURCE = "oembed"
# oEmbed field -> PageMetadata field. "html" is deliberately absent: it is the provider's
# embed markup and must never be stored or shown.
_TEXT_FIELDS = {"title": "title", "author_name": "author", "provider_name": "site_name"}


def parse_oembed(body: bytes) -> PageMetadata:
    """Title, author, site name, thumbnail and duration from an oEmbed JSON body.

    Returns an empty record for anything that is not a JSON object; oversized bodies are
    refused rather than cut, since cut JSON does not parse anyway.
    """
    meta = PageMetadata()
    if len(body) > MAX_OEMBED_BYTES:
        return meta
    try:
        document = json.loads(body.decode("utf-8-sig", "replace"))
    except (ValueError, RecursionError):
        return meta
    if not isinstance(document, dict):
        return meta
    for key, name in _TEXT_FIELDS.items():
        value = document.get(key)
        if isinstance(value, str):
            _set(meta, name, clean_text(value, TEXT_CAPS[name]))
    _set(meta, "image_url", safe_http_url(document.get("thumbnail_url")))
    # Vimeo and others give "duration" in seconds; the oEmbed spec itself has no such field.
    minutes = seconds_to_minutes(document.get("duration"))
    if minutes is not None:
        meta.duration_minutes = minutes
        meta.sources["duration_minutes"] = SOURCE
    if document.get("type") == "video":
        _set(meta, "kind_hint", "video")
    return meta


def _set(meta: PageMetadata, name: str, value: str) -> None:
    if value:
        setattr(meta, name, value)
        meta.sources[name] = SOURCE
