"""Limits every parser works under: a hostile or broken file is refused, never a crash.

A file is read at most MAX_BYTES + 1 bytes (so a 1 GB upload is refused without being
held in memory), decoded as UTF-8, and checked for over-long lines before any parser sees
it; the parsers then count rows and nesting depth themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

MAX_BYTES = 64 * 1024 * 1024
MAX_ROWS = 200_000
# Deeper than any real bookmark tree or backup; a deeper file is built to exhaust the parser.
MAX_DEPTH = 32
MAX_LINE_LENGTH = 100_000
# Tags in one HTML file: a real browser export has a few per bookmark.
MAX_HTML_TAGS = 2_000_000


class FileRefused(ValueError):
    """The file cannot be imported at all; the message says why, for the curator."""


@dataclass(frozen=True)
class Limits:
    max_bytes: int = MAX_BYTES
    max_rows: int = MAX_ROWS
    max_depth: int = MAX_DEPTH
    max_line_length: int = MAX_LINE_LENGTH
    max_html_tags: int = MAX_HTML_TAGS


DEFAULT_LIMITS = Limits()


def current_limits() -> Limits:
    """The limits in force (read at call time, so an operator or a test may replace them)."""
    return DEFAULT_LIMITS


def read_limited(stream: BinaryIO, limits: Limits | None = None) -> bytes:
    """The stream's bytes, or FileRefused when there are more than limits.max_bytes."""
    limits = limits or current_limits()
    data = stream.read(limits.max_bytes + 1)
    if len(data) > limits.max_bytes:
        raise FileRefused(
            f"the file is larger than {limits.max_bytes:,} bytes; split it into smaller files"
        )
    return data


def decode_text(data: bytes, limits: Limits | None = None) -> str:
    """UTF-8 text (a BOM is dropped), with every line within the limit; else FileRefused."""
    limits = limits or current_limits()
    if len(data) > limits.max_bytes:
        raise FileRefused(f"the file is larger than {limits.max_bytes:,} bytes")
    if b"\x00" in data[:8192]:
        raise FileRefused("the file is binary (it contains NUL bytes), not a text export")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise FileRefused(f"line {line}: the file is not UTF-8 text ({exc.reason})") from None
    check_line_lengths(text, limits)
    return text


def check_line_lengths(text: str, limits: Limits = DEFAULT_LIMITS) -> None:
    start, number = 0, 1
    while True:
        end = text.find("\n", start)
        stop = len(text) if end == -1 else end
        if stop - start > limits.max_line_length:
            raise FileRefused(
                f"line {number} is longer than {limits.max_line_length:,} characters; "
                "the file is not a list of resources"
            )
        if end == -1:
            return
        start, number = end + 1, number + 1
