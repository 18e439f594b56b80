"""A forgiving scan of the start of an HTML page: title, first <h1>, a bit of visible text.

Built on the standard library's tokenizer, which copes with broken markup and binary junk;
the classifier only needs a few short strings, never a tree.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urlsplit

from curation.checker.decode import decode_html

MAX_TEXT_CHARS = 4000
MAX_FIELD_CHARS = 500
FEED_CHARS = 4096
# A refresh slower than this is a page that lives on its own, not a redirect.
MAX_REFRESH_DELAY = 5.0
MAX_SITE_NAME_CHARS = 80
_REFRESH = re.compile(
    r"\s*(\d+(?:\.\d*)?)\s*[;,]?\s*(?:url\s*=\s*)?(.*)", re.IGNORECASE | re.DOTALL
)
_SKIP_TEXT_IN = frozenset({"script", "style", "noscript", "template", "svg", "head", "title"})
# Text that is not the page's own statement: links (a listed post's title), code and tables (a
# quoted error, a status table), site chrome, and the first <h1> (judged on its own).
_NOT_PROSE = frozenset(
    {"a", "pre", "code", "kbd", "samp", "table", "nav", "header", "footer", "aside", "button",
     "select", "label", "form", "h1"}
)  # fmt: skip
# Meta tags naming the site ("Page not found | <og:site_name>").
_SITE_NAME_META = frozenset({"og:site_name", "application-name", "apple-mobile-web-app-title"})
_HOME_HREFS = frozenset({"/", "./", "../", "index.html", "/index.html"})
MAX_SITE_NAMES = 4
_ENTRY_TAGS = frozenset({"article", "time"})
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
    # The page's own statements (one a line): visible text outside links, code, tables, site
    # chrome and the first <h1>. At most MAX_TEXT_CHARS.
    prose: str = ""
    # What the page calls its site: og:site_name and the like, and the text of links home.
    site_names: tuple[str, ...] = ()
    # <article> and <time> elements seen: a page listing posts (a tag page, an archive) has many.
    entries: int = 0


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
        self.prose: list[str] = []
        self._prose_kept = 0
        self._not_prose: list[str] = []
        self.site_names: list[str] = []
        self._home_link: list[str] | None = None
        self.entries = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self._meta(dict(attrs))
        if (
            tag == "a"
            and self._home_link is None
            and len(self.site_names) < MAX_SITE_NAMES
            and _is_home_href((dict(attrs).get("href") or "").strip())
        ):
            self._home_link = []
        if tag in _NOT_PROSE:
            self._not_prose.append(tag)
        if tag in _ENTRY_TAGS:
            self.entries += 1
        if tag == "title" and not self._title_done:
            self._in_title = True
        elif tag == "h1" and not self._h1_done:
            self._in_h1 = True
        if tag in _SKIP_TEXT_IN:
            self._stack.append(tag)
        if tag in _BREAKING and self._in_h1:
            self.h1.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if tag in _NOT_PROSE and tag in self._not_prose:
            while self._not_prose and self._not_prose.pop() != tag:
                pass
        if tag == "a" and self._home_link is not None:
            name = " ".join("".join(self._home_link).split())
            if name and len(name) <= MAX_SITE_NAME_CHARS:
                self.site_names.append(name)
            self._home_link = None
        if tag == "title" and self._in_title:
            self._in_title = False
            self._title_done = True
        elif tag == "h1" and self._in_h1:
            self._in_h1 = False
            self._h1_done = True
        if tag in _SKIP_TEXT_IN and tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass

    def _meta(self, attrs: dict[str, str | None]) -> None:
        if not self.refresh_url:
            self.refresh_url = _immediate_refresh(attrs)
        key = (attrs.get("property") or attrs.get("name") or "").strip().lower()
        content = " ".join((attrs.get("content") or "").split())
        if key in _SITE_NAME_META and content and len(self.site_names) < MAX_SITE_NAMES:
            self.site_names.append(content[:MAX_SITE_NAME_CHARS])

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
                joined = " ".join(words)
                if self._kept < MAX_TEXT_CHARS:
                    self.text.append(joined)
                    self._kept += len(joined) + 1
                if self._home_link is not None:
                    self._home_link.append(data)
                if not self._not_prose and self._prose_kept < MAX_TEXT_CHARS:
                    self.prose.append(joined)
                    self._prose_kept += len(joined) + 1


def _is_home_href(href: str) -> bool:
    """A link to the site's home page: "/", "./", or an absolute URL whose path is "/"."""
    if href in _HOME_HREFS:
        return True
    if not href.startswith(("http://", "https://", "//")):
        return False
    try:
        return urlsplit(href).path in ("", "/")
    except ValueError:
        return False


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
        prose="\n".join(scanner.prose)[:MAX_TEXT_CHARS],
        site_names=tuple(scanner.site_names),
        entries=scanner.entries,
    )


def scan_text(body: bytes, content_type: str = "") -> PageSummary:
    """A plain-text body as a page: no title or heading, its lines as text and prose."""
    text = decode_html(body, content_type or None)[0]
    lines = [" ".join(line.split()) for line in text.splitlines()]
    lines = [line for line in lines if line]
    joined = "\n".join(lines)[:MAX_TEXT_CHARS]
    return PageSummary(text=joined, text_length=sum(len(line) + 1 for line in lines), prose=joined)
