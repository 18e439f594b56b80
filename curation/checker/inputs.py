"""Read the URLs to check from a text, Markdown or HTML file, lazily, with line numbers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .addresses import parse_target
from .errors import ForbiddenTarget, InvalidTarget

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})

# One level of balanced parentheses, so that Wikipedia's /Foo_(bar) survives.
_URL_BODY = r"(?:[^\s()<>]|\([^\s()<>]*\))+"
_INLINE_LINK = re.compile(r"\]\(\s*<?(https?://" + _URL_BODY + r")>?(?:\s+[\"'(][^)]*)?\s*\)")
_AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>")
_BARE = re.compile(r"https?://[^\s<>\[\]\"'`]+")
_TRAILING_PUNCTUATION = ".,;:!?*_~"
_INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")


@dataclass(frozen=True)
class InputLink:
    url: str
    line: int
    # Set when the line is not a URL at all; such links become invalid_url results unchecked.
    error: str = ""


def read_links(path: str | Path) -> Iterator[InputLink]:
    """Dispatch on the file suffix: Markdown, HTML, or one URL per line."""
    suffix = Path(path).suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return read_markdown_links(path)
    if suffix in HTML_SUFFIXES:
        return read_html_links(path)
    return read_text_urls(path)


def _lines(path: str | Path) -> Iterator[tuple[int, str]]:
    # utf-8-sig: editors on Windows start files with a BOM, which would spoil the first URL.
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        yield from enumerate(handle, start=1)


def read_text_urls(path: str | Path) -> Iterator[InputLink]:
    """One URL per line; blank lines and # comments skipped; other junk kept as an error."""
    for number, raw in _lines(path):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        error = ""
        try:
            parse_target(line)
        except InvalidTarget as exc:
            error = f"line {number}: {exc}"
        except ForbiddenTarget:
            # A refused target is still a URL: the engine reports it with the guard's rule.
            error = ""
        yield InputLink(url=line, line=number, error=error)


def _strip_bare(url: str) -> str:
    url = url.rstrip(_TRAILING_PUNCTUATION)
    # A closing parenthesis belongs to the URL only if it opened one.
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(_TRAILING_PUNCTUATION)
    return url


def read_markdown_links(path: str | Path) -> Iterator[InputLink]:
    """[text](url), <url> and bare http(s) URLs, outside fenced code blocks."""
    fence: str | None = None
    for number, line in _lines(path):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = None if fence == marker else (fence or marker)
            continue
        if fence:
            continue
        # Inline code is an example, not a link (lychee skips it too).
        line = _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)
        taken: list[tuple[int, int]] = []
        found: list[tuple[int, str]] = []
        for pattern in (_INLINE_LINK, _AUTOLINK):
            for match in pattern.finditer(line):
                taken.append(match.span(1))
                found.append((match.start(1), match.group(1)))
        for match in _BARE.finditer(line):
            if any(start <= match.start() < end for start, end in taken):
                continue
            found.append((match.start(), _strip_bare(match.group(0))))
        for _, url in sorted(found):
            yield InputLink(url=url, line=number)


def _anchor_collector() -> Any:
    # html.parser is imported only for HTML input: a plain list of URLs starts without it.
    from html.parser import HTMLParser

    class AnchorCollector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.found: list[InputLink] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag != "a":
                return
            for name, value in attrs:
                if name == "href" and value:
                    href = value.strip()
                    # Relative links point into the page's own site, which we were not asked
                    # about.
                    if href.lower().startswith(("http://", "https://")):
                        self.found.append(InputLink(url=href, line=self.getpos()[0]))

    return AnchorCollector()


def read_html_links(path: str | Path) -> Iterator[InputLink]:
    """Absolute http(s) <a href> targets, fed line by line so large files stream."""
    collector = _anchor_collector()
    for _, line in _lines(path):
        collector.feed(line)
        yield from collector.found
        collector.found.clear()
    collector.close()
    yield from collector.found
