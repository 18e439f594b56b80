"""Netscape bookmark files (what browsers, linkding, Pocket and Raindrop export) in and out.

Read with the standard library's html.parser, which expands no entities from a DTD and
builds no tree, under limits on tags and folder depth. Folders become a collection's
sections (nested folders as "Parent / Child") or topics (nested as children), as the
curator chooses; `<DD>` descriptions become item notes (or, with folders as topics, the
resource's curator note); TAGS become topics; ADD_DATE becomes the resource's created_at,
which the exporter writes back as ADD_DATE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from typing import Any

from django.utils.text import slugify

from curation.checker.urlnorm import InvalidURL, normalize_url
from curation.transfer.limits import DEFAULT_LIMITS, FileRefused, Limits
from curation.transfer.records import (
    WARNING,
    CollectionRecord,
    ItemRecord,
    ParsedFile,
    ResourceRecord,
    SectionRecord,
    TopicRecord,
)

DOCTYPE = "<!DOCTYPE NETSCAPE-Bookmark-file-1>"
FOLDERS_AS = ("sections", "topics")
ROOT_SECTION = "Bookmarks"
FOLDER_JOIN = " / "
# linkding writes a bookmark's notes after its description in <DD>, between these markers,
# and marks archived bookmarks with a tag of its own (older versions: linkding:archived).
LINKDING_NOTES = ("[linkding-notes]", "[/linkding-notes]")
LINKDING_ARCHIVED_TAGS = frozenset({"linkding:bookmarks.archived", "linkding:archived"})


def _linkding_notes(text: str) -> tuple[str, str]:
    """(description, note) of a <DD>: linkding's description and notes when it has the
    markers, else no description and the whole text as the note (what browsers mean)."""
    opening, closing = LINKDING_NOTES
    if opening not in text:
        return "", text
    description, _, notes = text.partition(opening)
    return description.strip(), notes.partition(closing)[0].strip()


@dataclass
class _Bookmark:
    href: str
    line: int
    add_date: str | None
    tags: list[str]
    title: list[str] = field(default_factory=list)
    description: list[str] = field(default_factory=list)


class _BookmarkReader(HTMLParser):
    def __init__(self, limits: Limits):
        super().__init__(convert_charrefs=True)
        self.limits = limits
        self.tags_seen = 0
        self.folders: list[str] = []  # the open <DL>s' folder names ("" for the root)
        self.pending_folder: str | None = None
        self.heading: list[str] | None = None
        self.title: list[str] = []
        self.in_title = False
        self.bookmark: _Bookmark | None = None
        self.in_anchor = False
        self.in_description = False
        # Bookmarks and opened folders (None) in file order, each with its folder path.
        self.found: list[tuple[list[str], _Bookmark | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags_seen += 1
        if self.tags_seen > self.limits.max_html_tags:
            raise FileRefused(f"the file has more than {self.limits.max_html_tags:,} tags")
        if tag in ("dt", "dl", "h3", "a"):
            self.in_description = False
        if tag == "h3":
            self.heading = []
        elif tag == "h1":
            self.in_title = True
        elif tag == "dl":
            self._open_folder()
        elif tag == "a":
            values = {name.lower(): value or "" for name, value in attrs}
            tags = [t.strip() for t in values.get("tags", "").split(",") if t.strip()]
            self.bookmark = _Bookmark(
                values.get("href", ""), self.getpos()[0], values.get("add_date") or None, tags
            )
            self.found.append((self._path(), self.bookmark))
            self.in_anchor = True
        elif tag == "dd" and self.bookmark is not None:
            self.in_description = True

    def _open_folder(self) -> None:
        if len(self.folders) >= self.limits.max_depth:
            raise FileRefused(
                f"line {self.getpos()[0]}: folders are nested more than "
                f"{self.limits.max_depth} deep"
            )
        name = self.pending_folder if self.pending_folder is not None else ""
        self.folders.append(name)
        if name:
            # An empty folder is still a section: announced when it opens.
            self.found.append((self._path(), None))
        self.pending_folder = None
        self.bookmark = None

    def _path(self) -> list[str]:
        return [name for name in self.folders[1:] if name] if self.folders else []

    def handle_endtag(self, tag: str) -> None:
        if tag == "h3" and self.heading is not None:
            self.pending_folder = " ".join("".join(self.heading).split()) or "Untitled folder"
            self.heading = None
        elif tag == "h1":
            self.in_title = False
        elif tag == "a":
            self.in_anchor = False
        elif tag == "dl":
            if self.folders:
                self.folders.pop()
            self.in_description = False
            self.bookmark = None

    def handle_data(self, data: str) -> None:
        if self.heading is not None:
            self.heading.append(data)
        elif self.in_title:
            self.title.append(data)
        elif self.in_anchor and self.bookmark is not None:
            self.bookmark.title.append(data)
        elif self.in_description and self.bookmark is not None:
            self.bookmark.description.append(data)


def parse_netscape(
    text: str,
    *,
    folders_as: str = "sections",
    collection_slug: str | None = None,
    limits: Limits = DEFAULT_LIMITS,
) -> ParsedFile:
    """The bookmarks of a Netscape file: with folders as sections, one collection; with
    folders as topics, resources filed under a topic per folder."""
    if folders_as not in FOLDERS_AS:
        raise ValueError(f"folders_as must be one of {', '.join(FOLDERS_AS)}")
    if DOCTYPE.lower() not in text[:4096].lower():
        raise FileRefused(f"not a Netscape bookmark file (no {DOCTYPE} at the top)")
    reader = _BookmarkReader(limits)
    reader.feed(text)
    reader.close()
    if sum(bookmark is not None for _, bookmark in reader.found) > limits.max_rows:
        raise FileRefused(f"the file has more than {limits.max_rows:,} bookmarks")
    parsed = ParsedFile(format="netscape")
    title = " ".join("".join(reader.title).split()) or ROOT_SECTION
    builder = _Builder(parsed, folders_as)
    for path, bookmark in reader.found:
        if bookmark is None:
            builder.folder(path)
        else:
            builder.add(path, bookmark)
    if folders_as == "sections":
        slug = collection_slug or slugify(title)[:200] or "bookmarks"
        sections = list(builder.sections.values())
        parsed.collections.append(
            CollectionRecord(slug=slug, title=title, sections=sections, line=1)
        )
    parsed.topics.extend(builder.topics.values())
    return parsed


class _Builder:
    def __init__(self, parsed: ParsedFile, folders_as: str):
        self.parsed = parsed
        self.folders_as = folders_as
        self.records: dict[str, ResourceRecord] = {}
        self.sections: dict[str, SectionRecord] = {}
        self.topics: dict[str, TopicRecord] = {}

    def folder(self, path: list[str]) -> None:
        if self.folders_as == "sections":
            name = FOLDER_JOIN.join(path)
            self.sections.setdefault(name, SectionRecord(title=name[:200]))

    def add(self, path: list[str], bookmark: _Bookmark) -> None:
        url = bookmark.href.strip()
        if not url.lower().startswith(("http://", "https://")):
            self.parsed.problem(
                bookmark.line, f"not a web address, left out: {url[:100]!r}", severity=WARNING
            )
            return
        title = " ".join("".join(bookmark.title).split())[:300]
        description, note = _linkding_notes("".join(bookmark.description).strip())
        tags = [tag for tag in bookmark.tags if tag not in LINKDING_ARCHIVED_TAGS]
        topics = [self._tag(tag, bookmark.line) for tag in tags]
        if self.folders_as == "topics" and path:
            topics.append(self._folder_topic(path, bookmark.line))
        record = self._record(url, title, note, topics, bookmark)
        if description:
            record.fields.setdefault("description", description)
        if self.folders_as == "sections":
            name = FOLDER_JOIN.join(path) or ROOT_SECTION
            section = self.sections.setdefault(
                name, SectionRecord(title=name[:200], line=bookmark.line)
            )
            if any(_key(item.url) == _key(url) for item in section.items):
                self.parsed.problem(
                    bookmark.line, f"{url} is twice in folder “{name}”: kept once", severity=WARNING
                )
                return
            section.items.append(ItemRecord(url=url, note=note, line=bookmark.line))

    def _record(self, url, title, note, topics, bookmark) -> ResourceRecord:
        key = _key(url)
        record = self.records.get(key)
        if record is None:
            fields: dict[str, Any] = {"title": title}
            if self.folders_as == "topics" and note:
                fields["curator_note"] = note
            record = ResourceRecord(
                url=url, fields=fields, topics=[], line=bookmark.line, added_at=bookmark.add_date
            )
            self.records[key] = record
            self.parsed.resources.append(record)
        for slug in topics:
            if slug not in record.topics:
                record.topics.append(slug)
        return record

    def _tag(self, tag: str, line: int) -> str:
        slug = slugify(tag)[:120] or "tag"
        self.topics.setdefault(slug, TopicRecord(slug, tag[:120], line=line, from_tag=True))
        return slug

    def _folder_topic(self, path: list[str], line: int) -> str:
        parent = None
        for depth in range(1, len(path) + 1):
            slug = "-".join(slugify(name) or "folder" for name in path[:depth])[:120]
            self.topics.setdefault(
                slug,
                TopicRecord(slug, path[depth - 1][:120], parent=parent, line=line, from_tag=True),
            )
            parent = slug
        return parent or ""


def _key(url: str) -> str:
    try:
        return normalize_url(url)
    except InvalidURL:
        return url


# --- Export ------------------------------------------------------------------------------------


def _anchor(entry: dict[str, Any], indent: str) -> list[str]:
    attrs = f'HREF="{escape(entry["url"])}"'
    if entry.get("add_date"):
        attrs += f' ADD_DATE="{entry["add_date"]}"'
    if entry.get("tags"):
        attrs += f' TAGS="{escape(",".join(entry["tags"]))}"'
    lines = [f"{indent}<DT><A {attrs}>{escape(entry['title'] or entry['url'])}</A>"]
    if entry.get("note"):
        lines.append(f"{indent}<DD>{escape(entry['note'])}")
    return lines


def render_netscape(title: str, folders: list[tuple[str | None, list[dict[str, Any]]]]) -> str:
    """A bookmark file as browsers write it: DOCTYPE, META charset, TITLE, H1, then one
    `<DL><p>` with a `<DT><H3>` and nested `<DL><p>` per folder (None: bookmarks at the root).
    Entries are {"url", "title", "note", "add_date" (Unix seconds), "tags"}."""
    lines = [
        DOCTYPE,
        "<!-- This is an automatically generated file.",
        "     It will be read and overwritten.",
        "     DO NOT EDIT! -->",
        '<META HTTP-EQUIV="Content-Type" CONTENT="text/html; charset=UTF-8">',
        f"<TITLE>{escape(title)}</TITLE>",
        f"<H1>{escape(title)}</H1>",
        "<DL><p>",
    ]
    for name, entries in folders:
        indent = "    "
        if name is not None:
            lines += [f"    <DT><H3>{escape(name)}</H3>", "    <DL><p>"]
            indent = "        "
        for entry in entries:
            lines += _anchor(entry, indent)
        if name is not None:
            lines.append("    </DL><p>")
    lines.append("</DL><p>")
    return "\n".join(lines) + "\n"
