"""Limits every parser works under: a hostile or broken file is refused, never a crash.

A file is read at most MAX_BYTES + 1 bytes (so a 1 GB upload is refused without being
held in memory), and every line is decoded as UTF-8 and checked for length by LineSource
before any parser sees it; the parsers then count rows and nesting depth themselves. A CSV
is never held as text: LineSource reads it a line at a time, as often as the importer asks.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator
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


# UTF-8 takes at most 4 bytes a character: a line longer than this many bytes is too long.
BYTES_PER_CHARACTER = 4


class LineSource:
    """A text file read one line at a time, from the start each time it is iterated.

    Each iteration checks every line (UTF-8, a BOM dropped, no NUL byte, no line over
    max_line_length), reading at most a line's worth of bytes at once, so neither the file
    nor its text is ever held whole. `head` is the start of the file, for telling its format.
    """

    def __init__(self, opener: Callable[[], BinaryIO], limits: Limits | None = None):
        self.opener = opener
        self.limits = limits or current_limits()
        with opener() as stream:
            self.head = stream.read(4096).decode("utf-8-sig", errors="ignore")

    @classmethod
    def from_bytes(cls, data: bytes, limits: Limits | None = None) -> LineSource:
        limits = limits or current_limits()
        if len(data) > limits.max_bytes:
            raise FileRefused(f"the file is larger than {limits.max_bytes:,} bytes")
        # BytesIO shares `data` until written to: no copy.
        return cls(lambda: io.BytesIO(data), limits)

    @classmethod
    def from_path(cls, path: str | os.PathLike, limits: Limits | None = None) -> LineSource:
        limits = limits or current_limits()
        if os.path.getsize(path) > limits.max_bytes:
            raise FileRefused(
                f"the file is larger than {limits.max_bytes:,} bytes; split it into smaller files"
            )
        return cls(lambda: open(path, "rb"), limits)

    def __iter__(self) -> Iterator[str]:
        """The file's lines, each with its line ending; FileRefused at the first bad one."""
        most = self.limits.max_line_length
        longest = most * BYTES_PER_CHARACTER + 2
        with self.opener() as stream:
            number = 0
            while raw := stream.readline(longest):
                number += 1
                if len(raw) == longest and not raw.endswith(b"\n"):
                    raise FileRefused(f"line {number} is longer than {most:,} characters")
                if b"\x00" in raw:
                    raise FileRefused(
                        f"line {number}: the file is binary (it contains NUL bytes), "
                        "not a text export"
                    )
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    raise FileRefused(
                        f"line {number}: the file is not UTF-8 text ({exc.reason})"
                    ) from None
                if len(line.rstrip("\r\n")) > most:
                    raise FileRefused(
                        f"line {number} is longer than {most:,} characters; "
                        "the file is not a list of resources"
                    )
                yield line
