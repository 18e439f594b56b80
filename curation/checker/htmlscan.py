"""A forgiving scan of the start of an HTML page: title, first <h1>, a bit of visible text.

Built on the standard library's tokenizer, which copes with broken markup and binary junk;
the classifier only needs a few short strings, never a tree.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser

from curation.checker.decode import decode_html

MAX_TEXT_CHARS = 4000
MAX_FIELD_CHARS = 500
FEED_CHARS = 4096
# A refresh slower than this is a page that lives on its own, not a redirect.
MAX_REFRESH_DELAY = 5.0
_REFRESH = re.compile(
    r"\s*(\d+(?:\.\d*)?)\s*[;,]?\s*(?:url\s*=\s*)?(.*)", re.IGNORECASE | re.DOTALL
)
_SKIP_TEXT_IN = frozenset({"script", "style", "noscript", "template", "svg", "head", "title"})
# Inside a heading, text nodes join without spaces (<span>4</span><span>0</span><span>4</span>
# reads "404") except across these.
_BREAKING = frozenset({"br", "p", "div", "li", "small"})


@dataclass(frozen=True)
class PageSummary:
    title: str = ""
    h1: str = ""
    # Visible text, at most MAX_TEXT_CHARS: one text node a line, whitespace collapsed within it
    # (a "404" alone in its element reads differently from "Room 404 seats 30").
    text: str = ""
    text_length: int = 0  # visible characters seen (may exceed len(text))
    # Target of an immediate <meta http-equiv="refresh"> (as written, maybe relative), or "".
    refresh_url: str = ""


class _Scanner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.title: list[str] = []
        self.h1: list[str] = []
        self.text: list[str] = []
        self._kept = 0  # characters in self.text, kept as a sum (a page has thousands of nodes)
        self.text_length = 0
        self._stack: list[str] = []
        self._in_title = False
        self._in_h1 = False
        self._h1_done = False
        self._title_done = False
        self.refresh_url = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta" and not self.refresh_url:
            self.refresh_url = _immediate_refresh(dict(attrs))
        if tag == "title" and not self._title_done:
            self._in_title = True
        elif tag == "h1" and not self._h1_done:
            self._in_h1 = True
        if tag in _SKIP_TEXT_IN:
            self._stack.append(tag)
        if tag in _BREAKING and self._in_h1:
            self.h1.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title" and self._in_title:
            self._in_title = False
            self._title_done = True
        elif tag == "h1" and self._in_h1:
            self._in_h1 = False
            self._h1_done = True
        if tag in _SKIP_TEXT_IN and tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def has_enough(self) -> bool:
        return self._h1_done and self._kept >= MAX_TEXT_CHARS

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title.append(data)
        if self._in_h1:
            self.h1.append(data)
        if not self._stack and not self._in_title:
            words = data.split()
            if words:
                self.text_length += sum(len(w) + 1 for w in words)
                if self._kept < MAX_TEXT_CHARS:
                    joined = " ".join(words)
                    self.text.append(joined)
                    self._kept += len(joined) + 1


def _immediate_refresh(attrs: dict[str, str | None]) -> str:
    """The URL of a meta refresh that fires within MAX_REFRESH_DELAY seconds, else ""."""
    if (attrs.get("http-equiv") or "").strip().lower() != "refresh":
        return ""
    match = _REFRESH.match(attrs.get("content") or "")
    if match is None or float(match.group(1)) > MAX_REFRESH_DELAY:
        return ""
    return match.group(2).strip().strip("'\"").strip()


def _clean(parts: list[str]) -> str:
    return " ".join("".join(parts).split())[:MAX_FIELD_CHARS]


def scan_html(body: bytes, content_type: str = "") -> PageSummary:
    scanner = _Scanner()
    # Best effort: keep whatever the tokenizer saw before choking on hostile markup.
    with contextlib.suppress(Exception):
        text = decode_html(body, content_type or None)[0]
        # Piece by piece, to stop once the heading is read and the text sample is full: the
        # tokenizer costs about 130 ns a character, and the rest of a page would change nothing
        # (text_length is then already far past anything the classifier compares it with).
        start = 0
        while start < len(text):
            # Cut just before a tag, so that no run of text is split in two.
            end = text.find("<", start + FEED_CHARS)
            end = len(text) if end < 0 else end
            scanner.feed(text[start:end])
            start = end
            if scanner.has_enough():
                break
        else:
            scanner.close()
    return PageSummary(
        title=_clean(scanner.title),
        h1=_clean(scanner.h1),
        text="\n".join(scanner.text)[:MAX_TEXT_CHARS],
        text_length=scanner.text_length,
        refresh_url=scanner.refresh_url,
    )
