"""The fragments a Markdown or HTML file offers: heading slugs (GitHub's rules) and ids.

GitHub renders `## Hello, World!` with the anchor `#hello-world`: the heading's text,
lowercased, with punctuation removed except `-` and `_`, and each space turned into `-`; a
second heading with the same slug gets `-1`, a third `-2`, and so on. Explicit `id` and `name`
attributes (`<a name="top"></a>`) count too, in Markdown as in HTML.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .inputs import kind_of, outside_code

_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_TAG = re.compile(r"<[^>]+>")
_EMPHASIS_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_+|_+(?![0-9A-Za-z])")
_HTML_ID = re.compile(r"""<[a-zA-Z][^>]*?\s(?:id|name)\s*=\s*["']([^"']+)["']""")
# Always there: "#" alone and "#top" scroll to the top of the page in every browser.
ALWAYS_PRESENT = frozenset({"", "top"})


def github_slug(heading: str) -> str:
    """The anchor GitHub gives a heading's text (without the duplicate suffix)."""
    text = _LINK.sub(r"\1", heading)
    text = _TAG.sub("", text).replace("`", "")
    text = _EMPHASIS_UNDERSCORE.sub("", text).lower()
    kept = [
        char for char in text if char in " -_" or unicodedata.category(char)[0] in ("L", "M", "N")
    ]
    return "".join(kept).replace(" ", "-")


def markdown_anchors(lines: Iterable[str]) -> set[str]:
    anchors: set[str] = set(ALWAYS_PRESENT)
    seen: Counter[str] = Counter()
    previous = ""
    for _, line in outside_code(enumerate(lines, start=1)):
        anchors.update(_HTML_ID.findall(line))
        heading = _heading(line, previous)
        previous = line
        if heading is None:
            continue
        slug = github_slug(heading.strip())
        anchors.add(f"{slug}-{seen[slug]}" if seen[slug] else slug)
        seen[slug] += 1
    return anchors


def _heading(line: str, previous: str) -> str | None:
    atx = _ATX.match(line.rstrip("\n"))
    if atx:
        return atx.group(2) or ""
    # A setext heading underlines the paragraph line above it (not a list item or a blank).
    paragraph = previous.strip() and not previous.lstrip().startswith(("-", "*"))
    if _SETEXT.match(line) and paragraph and not _ATX.match(previous.rstrip("\n")):
        return previous.strip()
    return None


def html_anchors(lines: Iterable[str]) -> set[str]:
    # html.parser is imported only for HTML input, as in inputs.py.
    from html.parser import HTMLParser

    class IdCollector(HTMLParser):
        def __init__(self) -> None:
            super().__init__(convert_charrefs=True)
            self.ids: set[str] = set(ALWAYS_PRESENT)

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            for name, value in attrs:
                if value and (name == "id" or (name == "name" and tag == "a")):
                    self.ids.add(value)

    collector = IdCollector()
    for line in lines:
        collector.feed(line)
    collector.close()
    return collector.ids


def anchors_of(path: str | Path) -> set[str] | None:
    """The fragments `path` offers; None when its kind has none we can know (text, a PDF)."""
    kind = kind_of(path)
    if kind not in ("markdown", "html"):
        return None
    with open(path, encoding="utf-8-sig", errors="replace") as handle:
        return markdown_anchors(handle) if kind == "markdown" else html_anchors(handle)


def has_anchor(anchors: set[str] | frozenset[str], fragment: str) -> bool:
    """GitHub matches a heading's anchor without regard to case; ids must match exactly."""
    return fragment in anchors or fragment.lower() in anchors
