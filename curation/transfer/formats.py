"""Which format a file is in, and reading any of them: the entry points' one call."""

from __future__ import annotations

import os
from pathlib import PurePath

from curation.transfer.csvfile import parse_csv_lines
from curation.transfer.jsonfile import parse_json
from curation.transfer.limits import FileRefused, Limits, LineSource
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
    source = LineSource.from_bytes(data, limits)
    return parse_source(
        source, name=name, format=format, collection=collection, folders_as=folders_as
    )


def parse_path(
    path: str | os.PathLike,
    *,
    format: str = "auto",
    collection: str | None = None,
    folders_as: str = "sections",
    limits: Limits | None = None,
) -> ParsedFile:
    """Parse a file on disk; a CSV is read a line at a time and never held whole."""
    source = LineSource.from_path(path, limits)
    name = PurePath(path).name
    return parse_source(
        source, name=name, format=format, collection=collection, folders_as=folders_as
    )


def parse_source(
    source: LineSource,
    *,
    name: str = "",
    format: str = "auto",
    collection: str | None = None,
    folders_as: str = "sections",
) -> ParsedFile:
    """Parse what `source` reads. A CSV's rows are read from it again, a batch at a time,
    while importing; the other formats are lists and backups, read whole."""
    limits = source.limits
    chosen = detect_format(name, source.head) if format == "auto" else format
    if chosen not in FORMATS:
        raise FileRefused(f"unknown format {format!r}: choose auto or one of {', '.join(FORMATS)}")
    if chosen == "csv":
        return parse_csv_lines(source, limits=limits)
    # Every line is checked (UTF-8, no NUL, length) as it is read.
    text = "".join(source)
    if chosen == "markdown":
        return parse_markdown(text, collection_slug=collection, limits=limits)
    if chosen == "netscape":
        return parse_netscape(
            text, folders_as=folders_as, collection_slug=collection, limits=limits
        )
    return parse_json(text, limits=limits)
