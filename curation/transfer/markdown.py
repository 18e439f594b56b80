"""Awesome-list Markdown in and out: headings are sections, links are items.

Parsing uses markdown-it-py (CommonMark), so code spans, HTML comments, reference links and
escapes mean what they mean on GitHub; what we add is the reading of a curated list:

- the first `#` heading, before anything else, is the collection's title; every later
  heading (any level, in file order) starts a section; links before the first section
  heading go in a first section called "Introduction";
- `- [Title](url) - note` (or `: note`, an en or em dash) is an item with that note;
- any other link is an item of its section whose note is the sentence it stands in;
- images, badges (a link around an image), anchors (`#section`, so tables of contents),
  relative links and mailto: are not resources;
- a list item with no link at all is reported as a warning, never invented into a resource;
- paragraphs without links are the intro of the collection (before the first section
  heading) or of their section.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from curation.checker.urlnorm import InvalidURL, normalize_url
from curation.transfer.limits import DEFAULT_LIMITS, FileRefused, Limits
from curation.transfer.records import (
    WARNING,
    CollectionRecord,
    ItemRecord,
    ParsedFile,
    ResourceRecord,
    SectionRecord,
)

FIRST_SECTION_TITLE = "Introduction"
DEFAULT_TITLE = "Imported list"
# What separates a leading link from its note in `- [Title](url) - note`.
NOTE_SEPARATOR = re.compile(r"^\s*(?:--?|–|—|:)(?:\s+|$)")
# A sentence ends at . ! ? or … followed by space (closing quotes and brackets stay with it).
SENTENCE_END = re.compile(r"[.!?…][\"”’)\]]*\s+")
WHITESPACE = re.compile(r"\s+")
# A named anchor alone on its line (`<a name="tools" />`, `<a id="x"></a>`), which lists put
# above headings for their tables of contents. After a blank line CommonMark reads it as the
# start of an HTML block that runs to the next blank line, swallowing the heading and the list
# under it; the anchor says nothing to us, so its line is read as blank (parse_markdown).
ANCHOR_LINE = re.compile(
    r"[ ]{0,3}<a\s+(?:name|id)\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+)\s*/?>\s*(?:</a>)?\s*",
    re.IGNORECASE,
)
# Markdown that an HTML block swallowed (a link, or a heading): not read, but reported. Links
# written as HTML (`<a href>` around a logo, a sponsor) are the page's decoration, not items.
SWALLOWED_MARKDOWN = re.compile(r"\]\(\s*https?://|^[ ]{0,3}#{1,6}\s", re.IGNORECASE | re.MULTILINE)
# Escaped on export so that a title or note reads back as the same text.
MARKDOWN_SPECIALS = re.compile(r"([\\`*_\[\]<>!&~|#])")


@dataclass
class _Link:
    href: str
    start: int  # offsets into the paragraph's plain text
    end: int
    line: int
    has_image: bool


def _slugify(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug[:200] or "imported-list"


def _plain(children: list[Token], first_line: int) -> tuple[str, list[_Link]]:
    """The inline tokens as plain text, and where each link sits in it."""
    parts: list[str] = []
    length = 0
    line = first_line
    links: list[_Link] = []
    open_link: _Link | None = None
    for child in children:
        text = ""
        if child.type in ("text", "code_inline"):
            text = child.content
        elif child.type in ("softbreak", "hardbreak"):
            text = " "
            line += 1
        elif child.type == "link_open":
            open_link = _Link(str(child.attrGet("href") or ""), length, length, line, False)
        elif child.type == "link_close" and open_link is not None:
            open_link.end = length
            links.append(open_link)
            open_link = None
        elif child.type == "image" and open_link is not None:
            open_link.has_image = True
        parts.append(text)
        length += len(text)
    return "".join(parts), links


def _sentence(text: str, start: int, end: int) -> str:
    """The sentence of `text` that holds the span start..end."""
    begin = 0
    for match in SENTENCE_END.finditer(text):
        if match.end() <= start:
            begin = match.end()
        elif match.start() >= end:
            return _squash(text[begin : match.start() + len(match.group(0).rstrip())])
    return _squash(text[begin:])


def _shorten(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _squash(text: str) -> str:
    return WHITESPACE.sub(" ", text).strip()


def _is_resource_link(link: _Link) -> bool:
    href = link.href.strip()
    return not link.has_image and href.lower().startswith(("http://", "https://"))


class _Reader:
    """Walks the token stream once, filling a ParsedFile."""

    def __init__(self, parsed: ParsedFile, collection: CollectionRecord):
        self.parsed = parsed
        self.collection = collection
        self.section: SectionRecord | None = None
        self.resources: dict[str, ResourceRecord] = {}
        # The normalized addresses of the current section's items: a repeat is kept once.
        self.section_keys: set[str] = set()
        self.in_list_item = 0
        self.seen_content = False

    def heading(self, inline: Token, level: int) -> None:
        text, _ = _plain(inline.children or [], inline.map[0] + 1 if inline.map else 0)
        title = _squash(text)
        line = inline.map[0] + 1 if inline.map else None
        if level == 1 and not self.seen_content and not self.collection.sections:
            self.collection.title = title or self.collection.title
            self.seen_content = True
            return
        self.seen_content = True
        if not title:
            self.parsed.problem(
                line, "a heading without text: its links join the section above", severity=WARNING
            )
            return
        self._start_section(SectionRecord(title=title[:200], line=line))

    def _start_section(self, section: SectionRecord) -> None:
        self.section = section
        self.section_keys = set()
        self.collection.sections.append(section)

    def html_block(self, token: Token) -> None:
        content = token.content.lstrip()
        if content.startswith("<!--") or not SWALLOWED_MARKDOWN.search(content):
            return  # a comment is hidden on purpose; plain HTML is decoration
        line = token.map[0] + 1 if token.map else None
        self.parsed.problem(
            line,
            "Markdown inside an HTML block is not read (GitHub shows it as HTML): "
            "leave a blank line between the HTML and the list",
            severity=WARNING,
        )

    def paragraph(self, inline: Token, source_lines: list[str]) -> None:
        self.seen_content = True
        first = inline.map[0] + 1 if inline.map else 1
        text, links = _plain(inline.children or [], first)
        resource_links = [link for link in links if _is_resource_link(link)]
        if not links and self.in_list_item:
            self.parsed.problem(
                first,
                f"a list item without a link is not a resource: “{_shorten(_squash(text))}”",
                severity=WARNING,
            )
            return
        if not links:
            self._intro(inline, source_lines)
            return
        for index, link in enumerate(resource_links):
            note = self._note(text, link, leading=index == 0 and link is links[0])
            self._item(link, title=_squash(text[link.start : link.end]), note=note)

    def _note(self, text: str, link: _Link, *, leading: bool) -> str:
        if leading and not text[: link.start].strip():
            rest = text[link.end :]
            separator = NOTE_SEPARATOR.match(rest)
            if separator:
                return _squash(rest[separator.end() :])
        return _sentence(text, link.start, link.end)

    def _intro(self, inline: Token, source_lines: list[str]) -> None:
        start, stop = inline.map or (0, 0)
        raw = "\n".join(source_lines[start:stop]).strip()
        if self.section is None:
            self.collection.intro = f"{self.collection.intro}\n\n{raw}".strip()
        else:
            self.section.intro = f"{self.section.intro}\n\n{raw}".strip()

    def _item(self, link: _Link, *, title: str, note: str) -> None:
        url = link.href.strip()
        try:
            key = normalize_url(url)
        except InvalidURL:
            key = url  # reported, with its line, when the import validates the resource
        if key not in self.resources:
            if title == url:
                title = ""  # an autolink: let the page's own title fill it in
            record = ResourceRecord(url=url, fields={"title": title[:300]}, line=link.line)
            self.resources[key] = record
            self.parsed.resources.append(record)
        if self.section is None:
            self._start_section(SectionRecord(title=FIRST_SECTION_TITLE, line=link.line))
        if key in self.section_keys:
            self.parsed.problem(
                link.line,
                f"{url} is already listed in section “{self.section.title}”: kept once",
                severity=WARNING,
            )
            return
        self.section_keys.add(key)
        self.section.items.append(ItemRecord(url=url, note=note, line=link.line))


def _without_anchor_lines(text: str) -> str:
    """The text with each lone anchor line that would open an HTML block made blank (see
    ANCHOR_LINE); line numbers stay those of the file."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        opens_block = index == 0 or not lines[index - 1].strip()
        if opens_block and ANCHOR_LINE.fullmatch(line.rstrip("\r")):
            lines[index] = ""
    return "\n".join(lines)


def parse_markdown(
    text: str,
    *,
    collection_slug: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedFile:
    """One collection (and its resources) read from an awesome-list style Markdown file."""
    parser = MarkdownIt("commonmark", {"maxNesting": limits.max_depth})
    text = _without_anchor_lines(text)
    tokens = parser.parse(text)
    if len(tokens) > limits.max_html_tags:
        raise FileRefused(f"the Markdown has more than {limits.max_html_tags:,} elements")
    parsed = ParsedFile(format="markdown")
    collection = CollectionRecord(slug="", title=DEFAULT_TITLE, line=1)
    reader = _Reader(parsed, collection)
    source_lines = text.splitlines()
    for index, token in enumerate(tokens):
        if token.type == "list_item_open":
            reader.in_list_item += 1
        elif token.type == "list_item_close":
            reader.in_list_item -= 1
        elif token.type == "heading_open":
            reader.heading(tokens[index + 1], int(token.tag[1]))
        elif token.type == "inline" and tokens[index - 1].type == "paragraph_open":
            reader.paragraph(token, source_lines)
        elif token.type == "html_block":
            reader.html_block(token)
    if len(parsed.resources) > limits.max_rows:
        raise FileRefused(f"the file lists more than {limits.max_rows:,} links")
    collection.slug = collection_slug or _slugify(collection.title)
    parsed.collections.append(collection)
    return parsed


# --- Export ------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return MARKDOWN_SPECIALS.sub(r"\\\1", _squash(text))


def _destination(url: str) -> str:
    # Parentheses in a URL (Wikipedia's /Foo_(bar)) are safe inside <...>.
    return f"<{url}>" if any(ch in url for ch in "() ") else url


def _item_line(item: dict) -> str:
    title = _escape(item["title"]) if item["title"] else None
    link = f"[{title}]({_destination(item['url'])})" if title else f"<{item['url']}>"
    note = _squash(item["note"])
    # A bare link reads back with its own text as the note, so that note is written bare,
    # and an empty note gets a separator with nothing after it.
    if note == _squash(item["title"] or item["url"]):
        return f"- {link}"
    if not note:
        return f"- {link} -"
    return f"- {link} - {_escape(note)}"


def render_markdown(outline: dict) -> str:
    """Markdown for a collection outline: {"title", "intro", "sections": [{"title", "intro",
    "items": [{"title", "url", "note"}]}]}; parse_markdown reads it back as the same outline."""
    lines = [f"# {_escape(outline['title'])}", ""]
    if outline.get("intro"):
        lines += [outline["intro"].strip(), ""]
    for section in outline["sections"]:
        lines += [f"## {_escape(section['title'])}", ""]
        if section.get("intro"):
            lines += [section["intro"].strip(), ""]
        lines += [_item_line(item) for item in section["items"]]
        if section["items"]:
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"
