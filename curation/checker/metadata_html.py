"""One pass over an HTML document that collects the raw material for page metadata.

Nothing here decides precedence or validates values; it only gathers what the markup says,
bounded so that hostile pages cost little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import lxml.html
from lxml import etree

MAX_META_VALUES_PER_KEY = 20
MAX_SCRIPT_SCAN_CHARS = 100_000
# Markers that only bot-wall pages carry, looked for in scripts, frames and element ids rather
# than in visible text, so an article quoting them in a code block is not mistaken for a wall.
CHALLENGE_MARKERS = ("cf_chl_opt", "px-captcha", "_incapsula_resource")
# YouTube emits one og:video:tag per keyword, so those do not count towards a tag flood.
UNCOUNTED_SOCIAL_KEYS = frozenset({"og:video:tag"})
_NOT_VISIBLE = [
    "script",
    "style",
    "noscript",
    "template",
    "nav",
    "footer",
    "aside",
    "svg",
    "select",
    "button",
]
_VISIBLE_TEXT = etree.XPath(
    ".//text()[not(" + " or ".join(f"ancestor::{tag}" for tag in _NOT_VISIBLE) + ")]"
)
# lxml refuses C0 controls other than tab, newline and carriage return.
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
_WORD = re.compile(r"\w+")
# Han, kana: scripts written without spaces, so each character counts as half a word.
_UNSPACED = re.compile("[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


@dataclass
class HtmlFacts:
    title: str = ""
    lang: str = ""
    base_href: str = ""
    meta: dict[str, list[str]] = field(default_factory=dict)
    itemprops: dict[str, str] = field(default_factory=dict)
    links: list[tuple[frozenset[str], str, str]] = field(default_factory=list)
    jsonld: list[str] = field(default_factory=list)
    social_tag_count: int = 0
    challenge_marker: bool = False
    word_count: float = 0.0

    def first_meta(self, key: str) -> str:
        values = self.meta.get(key)
        return values[0] if values else ""

    def link_hrefs(self, rel: str, types: tuple[str, ...] = ()) -> list[str]:
        return [
            href
            for rels, href, link_type in self.links
            if rel in rels and (not types or link_type in types)
        ]


def parse_html(text: str) -> HtmlFacts | None:
    """Collect the raw metadata of an HTML document, or None when nothing parses."""
    data = _XML_UNSAFE.sub("", text).encode("utf-8", "replace")
    # The text is already decoded; an explicit encoding stops libxml2 from re-sniffing a
    # <meta charset> and decoding it a second time.
    parser = lxml.html.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True
    )
    try:
        root = lxml.html.document_fromstring(data, parser=parser)
    except (etree.LxmlError, ValueError):
        return None
    if root is None:
        return None
    facts = HtmlFacts(lang=root.get("lang") or root.get("xml:lang") or "")
    for element in root.iter():
        tag = element.tag
        if not isinstance(tag, str):
            continue
        if tag == "meta":
            _collect_meta(facts, element)
        elif tag == "link":
            _collect_link(facts, element)
        elif tag == "title" and not facts.title and not _inside_svg(element):
            facts.title = element.text_content()
        elif tag == "base" and not facts.base_href:
            facts.base_href = element.get("href") or ""
        elif tag == "script":
            _collect_script(facts, element)
        elif tag in ("iframe", "img"):
            facts.challenge_marker |= _has_marker(element.get("src"))
        element_id = element.get("id")
        if element_id:
            facts.challenge_marker |= _has_marker(element_id)
    facts.word_count = _word_count(root)
    return facts


def _collect_meta(facts: HtmlFacts, element: lxml.html.HtmlElement) -> None:
    content = element.get("content")
    if content is None:
        content = element.get("value") or ""
    keys = {
        (element.get(attribute) or "").strip().lower()
        for attribute in ("property", "name", "http-equiv")
    }
    keys.discard("")
    for key in keys:
        if key.startswith(("og:", "twitter:")) and key not in UNCOUNTED_SOCIAL_KEYS:
            facts.social_tag_count += 1
        values = facts.meta.setdefault(key, [])
        if content.strip() and len(values) < MAX_META_VALUES_PER_KEY:
            values.append(content)
    itemprop = (element.get("itemprop") or "").strip()
    if itemprop and content.strip():
        facts.itemprops.setdefault(itemprop, content)


def _collect_link(facts: HtmlFacts, element: lxml.html.HtmlElement) -> None:
    href = element.get("href")
    if not href:
        return
    rels = frozenset((element.get("rel") or "").lower().split())
    link_type = (element.get("type") or "").strip().lower()
    facts.links.append((rels, href, link_type))


def _collect_script(facts: HtmlFacts, element: lxml.html.HtmlElement) -> None:
    script_type = (element.get("type") or "").split(";")[0].strip().lower()
    body = element.text or ""
    if script_type == "application/ld+json":
        facts.jsonld.append(body)
    facts.challenge_marker |= _has_marker(element.get("src")) or _has_marker(
        body[:MAX_SCRIPT_SCAN_CHARS]
    )


def _has_marker(value: str | None) -> bool:
    if not value:
        return False
    lowered = value.lower()
    return any(marker in lowered for marker in CHALLENGE_MARKERS)


def _inside_svg(element: lxml.html.HtmlElement) -> bool:
    # Inline SVG icons carry their own <title> elements, which are not the page title.
    return any(ancestor.tag == "svg" for ancestor in element.iterancestors())


def _word_count(root: lxml.html.HtmlElement) -> float:
    # The article element holds the text a reader reads; the rest of the body is chrome.
    for path in (".//article", ".//main", "body"):
        container = root.find(path)
        if container is not None:
            break
    else:
        return 0.0
    words = 0.0
    for chunk in _VISIBLE_TEXT(container):
        unspaced = len(_UNSPACED.findall(chunk))
        words += len(_WORD.findall(_UNSPACED.sub(" ", chunk))) + unspaced / 2
    return words
