"""Read the links of a text, Markdown or HTML file, lazily, with line and column numbers.

By default only absolute http(s) links (what `checklinks --input` checks over the network);
`every_link=True` also gives relative links, `#fragment` links and other schemes (mailto:,
tel:, ...), which the linter checks against the file system or counts as skipped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MARKDOWN_SUFFIXES = frozenset({".md", ".markdown", ".mdown"})
HTML_SUFFIXES = frozenset({".html", ".htm", ".xhtml"})

# One level of balanced parentheses, so that Wikipedia's /Foo_(bar) survives.
_URL_BODY = r"(?:[^\s()<>]|\([^\s()<>]*\))+"
_INLINE_LINK = re.compile(r"\]\(\s*<?(https?://" + _URL_BODY + r")>?(?:\s+[\"'(][^)]*)?\s*\)")
# Any destination of an inline link or image: [text](dest "title"), dest possibly in <...>.
_INLINE_ANY = re.compile(r"\]\(\s*(?:<([^<>\n]+)>|(" + _URL_BODY + r"))(?:\s+[\"'(][^)]*)?\s*\)")
_REFERENCE = re.compile(r"^ {0,3}\[[^\]]+\]:\s*<?([^\s<>]+)>?")
_AUTOLINK = re.compile(r"<(https?://[^\s<>]+)>")
# Inline HTML in Markdown (badges, centred logos): <a href="..."> and <img src="...">.
_HTML_ATTRIBUTE = re.compile(r"""<(?:a|img)\s[^>]*?\b(?:href|src)\s*=\s*["']([^"']+)["']""")
_AUTOLINK_ANY = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]{1,31}:[^\s<>]+)>")
_BARE = re.compile(r"https?://[^\s<>\[\]\"'`]+")
_TRAILING_PUNCTUATION = ".,;:!?*_~"
_INLINE_CODE = re.compile(r"(`+)(?!`).*?(?<!`)\1(?!`)")
WEB_LINK_PATTERNS = (_INLINE_LINK, _AUTOLINK)
EVERY_LINK_PATTERNS = (_INLINE_ANY, _REFERENCE, _AUTOLINK_ANY, _HTML_ATTRIBUTE)
HTML_LINK_ATTRIBUTES = {"a": "href", "area": "href", "img": "src"}


@dataclass(frozen=True, slots=True)
class InputLink:
    url: str
    line: int
    # 1-based, in characters, where the link starts on its line (the tag's start in HTML).
    column: int = 1


def kind_of(path: str | Path) -> str:
    """'markdown', 'html' or 'text' (one URL a line), by the file's suffix."""
    suffix = Path(path).suffix.lower()
    if suffix in MARKDOWN_SUFFIXES:
        return "markdown"
    if suffix in HTML_SUFFIXES:
        return "html"
    return "text"


def read_links(
    path: str | Path, *, every_link: bool = False, kind: str | None = None
) -> Iterator[InputLink]:
    """Dispatch on the file suffix: Markdown, HTML, or one URL per line (`kind` "plain": URLs
    anywhere in the text)."""
    return links_in_lines(_lines(path), kind or kind_of(path), every_link=every_link)


def links_in_lines(
    lines: Iterable[str], kind: str, *, every_link: bool = False
) -> Iterator[InputLink]:
    """The links of a document given as lines (standard input, or a file read by _lines)."""
    numbered = enumerate(lines, start=1)
    if kind == "markdown":
        return _markdown_links(numbered, every_link)
    if kind == "html":
        return _html_links(numbered, every_link)
    if kind == "plain":
        return _plain_urls(numbered)
    return _text_urls(numbered)


def _lines(path: str | Path) -> Iterator[str]:
    # utf-8-sig: editors on Windows start files with a BOM, which would spoil the first URL.
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        yield from handle


def read_text_urls(path: str | Path) -> Iterator[InputLink]:
    return _text_urls(enumerate(_lines(path), start=1))


def _text_urls(numbered: Iterable[tuple[int, str]]) -> Iterator[InputLink]:
    """One URL per line; blank lines and # comments skipped. A line that is not a URL is still
    given: the engine, which parses every URL anyway, reports it as invalid_url."""
    for number, raw in numbered:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        yield InputLink(url=line, line=number, column=len(raw) - len(raw.lstrip()) + 1)


def _plain_urls(numbered: Iterable[tuple[int, str]]) -> Iterator[InputLink]:
    """Bare http(s) URLs anywhere in prose: a text file met in a folder, not a list of links."""
    for number, line in numbered:
        for match in _BARE.finditer(line):
            yield InputLink(url=_strip_bare(match.group(0)), line=number, column=match.start() + 1)


def _strip_bare(url: str) -> str:
    url = url.rstrip(_TRAILING_PUNCTUATION)
    # A closing parenthesis belongs to the URL only if it opened one.
    while url.endswith(")") and url.count(")") > url.count("("):
        url = url[:-1].rstrip(_TRAILING_PUNCTUATION)
    return url


def read_markdown_links(path: str | Path, *, every_link: bool = False) -> Iterator[InputLink]:
    return _markdown_links(enumerate(_lines(path), start=1), every_link)


def outside_code(numbered: Iterable[tuple[int, str]]) -> Iterator[tuple[int, str]]:
    """Markdown lines outside fenced code blocks, inline code blanked out (same columns)."""
    fence: str | None = None
    for number, line in numbered:
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")):
            marker = stripped[:3]
            fence = None if fence == marker else (fence or marker)
            continue
        if fence:
            continue
        # Inline code is an example, not a link (lychee skips it too).
        yield number, _INLINE_CODE.sub(lambda m: " " * len(m.group(0)), line)


def _markdown_links(numbered: Iterable[tuple[int, str]], every_link: bool) -> Iterator[InputLink]:
    """[text](url), <url> and bare http(s) URLs, outside fenced code blocks."""
    for number, line in outside_code(numbered):
        taken: list[tuple[int, int]] = []
        found: list[tuple[int, str]] = []
        patterns = EVERY_LINK_PATTERNS if every_link else WEB_LINK_PATTERNS
        for pattern in patterns:
            for match in pattern.finditer(line):
                group = next(g for g in range(1, (pattern.groups or 0) + 1) if match.group(g))
                start, end = match.span(group)
                if any(s <= start < e for s, e in taken):
                    continue
                taken.append((start, end))
                found.append((start, match.group(group).strip()))
        for match in _BARE.finditer(line):
            if any(start <= match.start() < end for start, end in taken):
                continue
            found.append((match.start(), _strip_bare(match.group(0))))
        for start, url in sorted(found):
            yield InputLink(url=url, line=number, column=start + 1)


def _anchor_collector(every_link: bool) -> Any:
    # html.parser is imported only for HTML input: a plain list of URLs starts without it.
    from html.parser import HTMLParser

    class AnchorCollector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.found: list[InputLink] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            wanted = (
                HTML_LINK_ATTRIBUTES.get(tag) if every_link else ("href" if tag == "a" else None)
            )
            if wanted is None:
                return
            for name, value in attrs:
                if name == wanted and value and value.strip():
                    href = value.strip()
                    # Without every_link, relative links point into the page's own site, which
                    # we were not asked about.
                    if every_link or href.lower().startswith(("http://", "https://")):
                        line, offset = self.getpos()
                        self.found.append(InputLink(url=href, line=line, column=offset + 1))

    return AnchorCollector()


def read_html_links(path: str | Path, *, every_link: bool = False) -> Iterator[InputLink]:
    return _html_links(enumerate(_lines(path), start=1), every_link)


def _html_links(numbered: Iterable[tuple[int, str]], every_link: bool) -> Iterator[InputLink]:
    """<a href> targets (and <img src> with every_link), fed line by line so large files stream."""
    collector = _anchor_collector(every_link)
    for _, line in numbered:
        collector.feed(line)
        yield from collector.found
        collector.found.clear()
    collector.close()
    yield from collector.found
