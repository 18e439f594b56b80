"""Which format a file is in, and reading any of them: the entry points' one call."""

from __future__ import annotations

from pathlib import PurePath

from curation.transfer.csvfile import parse_csv
from curation.transfer.jsonfile import parse_json
from curation.transfer.limits import FileRefused, Limits, current_limits, decode_text
from curation.transfer.markdown import parse_markdown
from curation.transfer.netscape import DOCTYPE, parse_netscape
from curation.transfer.records import ParsedFile

FORMATS = ("markdown", "netscape", "csv", "json")
SUFFIXES = {
    ".md": "markdown", ".markdown": "markdown", ".mdown": "markdown",
    ".html": "netscape", ".htm": "netscape",
    ".csv": "csv",
    ".json": "json",
}  # fmt: skip


def detect_format(name: str, text: str) -> str:
    """The format a file is in, from its name's suffix or else from how it begins."""
    by_suffix = SUFFIXES.get(PurePath(name or "").suffix.lower())
    if by_suffix:
        return by_suffix
    head = text[:4096].lstrip()
    if head.upper().startswith(DOCTYPE.upper()):
        return "netscape"
    if head.startswith("{"):
        return "json"
    first = head.split("\n", 1)[0].lower()
    if "," in first and "url" in [cell.strip().strip('"') for cell in first.split(",")]:
        return "csv"
    return "markdown"


def parse_file(
    data: bytes,
    *,
    name: str = "",
    format: str = "auto",
    collection: str | None = None,
    folders_as: str = "sections",
    limits: Limits | None = None,
) -> ParsedFile:
    """Decode and parse an uploaded or read file; FileRefused says why it cannot be."""
    limits = limits or current_limits()
    text = decode_text(data, limits)
    chosen = detect_format(name, text) if format == "auto" else format
    if chosen == "markdown":
        return parse_markdown(text, collection_slug=collection, limits=limits)
    if chosen == "netscape":
        return parse_netscape(
            text, folders_as=folders_as, collection_slug=collection, limits=limits
        )
    if chosen == "csv":
        return parse_csv(text, limits=limits)
    if chosen == "json":
        return parse_json(text, limits=limits)
    raise FileRefused(f"unknown format {format!r}: choose auto or one of {', '.join(FORMATS)}")
