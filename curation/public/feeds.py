"""Feeds for learners' readers: Atom and RSS (Django's syndication framework) and JSON Feed
1.1, for each collection, each topic and the whole catalogue; an OPML list of the collections'
feeds. Readers poll, so every feed answers a conditional GET (ETag, Last-Modified) with 304.

Each entry links to the resource's page here, never straight to the resource: the page says
whether the link works, so a feed never presents a dead link as live.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from django.contrib.syndication.views import Feed
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from django.utils import feedgenerator
from django.utils.xmlutils import SimplerXMLGenerator
from django.views.decorators.http import condition, require_safe

from curation.public import pages

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
JSON_FEED_TYPE = "application/feed+json"
BROKEN_NOTE = "The link is broken: the page here says so, and the list no longer links it."


@dataclass
class Entry:
    id: int
    title: str
    link: str  # the resource's page on this site
    text: str
    updated: datetime
    published: datetime
    author: str = ""
    live_url: str | None = None  # the learner's link; None when broken
    tags: list[str] = field(default_factory=list)


@dataclass
class Source:
    title: str
    description: str
    page: str
    entries: list[Entry]
    updated: datetime


def _entry(request: HttpRequest, row: dict, note: str, tags: list[str]) -> Entry:
    text = note or row["curator_note"] or row["description"]
    if row["link"] is None:
        text = f"{text}\n\n{BROKEN_NOTE}".strip()
    return Entry(
        id=row["id"],
        title=row["title"],
        link=request.build_absolute_uri(reverse("public:resource", args=[row["id"]])),
        text=text,
        updated=row["updated_at"],
        published=row["created_at"],
        author=row["author"],
        live_url=row["link"],
        tags=tags,
    )


def _newest(rows: list[dict], fallback: datetime | None = None) -> datetime:
    moments = [row["updated_at"] for row in rows]
    if fallback is not None:
        moments.append(fallback)
    # An empty catalogue has no date of its own: the epoch keeps the validators stable.
    return max(moments, default=datetime.fromtimestamp(0, tz=UTC))


def load_source(request: HttpRequest, scope: str, slug: str | None) -> Source:
    """The feed's content, read once per request (the validators and the body share it)."""
    cached = getattr(request, "_public_feed_source", None)
    if cached is not None:
        return cached
    if scope == "collection":
        source = _collection_source(request, slug)
    else:
        rows = pages.newest(topic_slug=slug if scope == "topic" else None)
        name = pages.topic_name(slug) if scope == "topic" else "the catalogue"
        if rows is None or name is None:
            raise Http404("No such topic.")
        page = reverse("public:topic", args=[slug]) if scope == "topic" else reverse("public:home")
        source = Source(
            title=f"Syllabus: new in {name}",
            description=f"Resources newly added to {name}, newest first.",
            page=request.build_absolute_uri(page),
            entries=[_entry(request, row, "", row["topics"]) for row in rows],
            updated=_newest(rows),
        )
    request._public_feed_source = source
    return source


def _collection_source(request: HttpRequest, slug: str | None) -> Source:
    data = pages.collection(slug or "")
    if data is None:
        raise Http404("No such collection.")
    entries, rows = [], []
    for section in data["sections"]:
        for item in section["items"]:
            rows.append(item["resource"])
            entries.append(_entry(request, item["resource"], item["note"], [section["title"]]))
    return Source(
        title=f"Syllabus: {data['title']}",
        description=data["intro"] or data["title"],
        page=request.build_absolute_uri(reverse("public:collection", args=[data["slug"]])),
        entries=entries,
        updated=_newest(rows, data["updated_at"]),
    )


def feed_etag(request: HttpRequest, scope: str, fmt: str, slug: str | None = None) -> str:
    # A hash of what the feed says (not of when it was read): a health change that alters an
    # entry's text changes it, a check that changes nothing does not.
    source = load_source(request, scope, slug)
    content = json.dumps([fmt, asdict(source)], sort_keys=True, default=str)
    return hashlib.blake2b(content.encode(), digest_size=16).hexdigest()


def feed_last_modified(
    request: HttpRequest, scope: str, fmt: str, slug: str | None = None
) -> datetime:
    return load_source(request, scope, slug).updated


class SourceFeed(Feed):
    """RSS 2.0 of a Source; AtomFeed below is the same in Atom 1.0."""

    feed_type = feedgenerator.Rss201rev2Feed

    def get_object(self, request, scope: str, fmt: str, slug: str | None = None) -> Source:
        return load_source(request, scope, slug)

    def title(self, obj: Source) -> str:
        return obj.title

    def link(self, obj: Source) -> str:
        return obj.page

    def description(self, obj: Source) -> str:
        return obj.description

    def items(self, obj: Source) -> list[Entry]:
        return obj.entries

    def item_title(self, item: Entry) -> str:
        return item.title

    def item_description(self, item: Entry) -> str:
        return item.text

    def item_link(self, item: Entry) -> str:
        return item.link

    def item_guid(self, item: Entry) -> str:
        return item.link

    def item_pubdate(self, item: Entry) -> datetime:
        return item.published

    def item_updateddate(self, item: Entry) -> datetime:
        return item.updated

    def item_author_name(self, item: Entry) -> str | None:
        return item.author or None

    def item_categories(self, item: Entry) -> list[str]:
        return item.tags


class AtomFeed(SourceFeed):
    feed_type = feedgenerator.Atom1Feed
    subtitle = SourceFeed.description


def json_feed(request: HttpRequest, source: Source) -> JsonResponse:
    """JSON Feed 1.1 (https://jsonfeed.org/version/1.1) of a Source."""
    items = []
    for entry in source.entries:
        item = {
            "id": entry.link,
            "url": entry.link,
            "title": entry.title,
            "content_text": entry.text,
            "date_published": entry.published.isoformat(),
            "date_modified": entry.updated.isoformat(),
            "tags": entry.tags,
        }
        if entry.live_url:
            item["external_url"] = entry.live_url
        if entry.author:
            item["authors"] = [{"name": entry.author}]
        items.append(item)
    body = {
        "version": JSON_FEED_VERSION,
        "title": source.title,
        "description": source.description,
        "home_page_url": source.page,
        "feed_url": request.build_absolute_uri(request.path),
        "items": items,
    }
    response = JsonResponse(body, json_dumps_params={"ensure_ascii": False})
    response["Content-Type"] = f"{JSON_FEED_TYPE}; charset=utf-8"
    return response


FORMATS = {"rss": SourceFeed(), "atom": AtomFeed()}


@require_safe
@condition(etag_func=feed_etag, last_modified_func=feed_last_modified)
def feed(request: HttpRequest, scope: str, fmt: str, slug: str | None = None) -> HttpResponse:
    """One feed: `scope` is collection, topic or catalogue; `fmt` rss, atom or json."""
    if fmt == "json":
        return json_feed(request, load_source(request, scope, slug))
    if fmt not in FORMATS:
        raise Http404("No such feed format.")
    return FORMATS[fmt](request, scope=scope, fmt=fmt, slug=slug)


@require_safe
def opml(request: HttpRequest) -> HttpResponse:
    """OPML 2.0 listing every published collection's feed, for a reader's import."""
    response = HttpResponse(content_type="text/x-opml; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="syllabus-collections.opml"'
    xml = SimplerXMLGenerator(response, "utf-8")
    xml.startDocument()
    xml.startElement("opml", {"version": "2.0"})
    xml.startElement("head", {})
    xml.addQuickElement("title", "Syllabus: every collection")
    xml.endElement("head")
    xml.startElement("body", {})
    for row in pages.collection_links():
        rss = reverse("public:collection-feed", args=[row["slug"], "rss"])
        page = reverse("public:collection", args=[row["slug"]])
        attributes = {
            "type": "rss",
            "text": row["title"],
            "title": row["title"],
            "description": row["intro"],
            "xmlUrl": request.build_absolute_uri(rss),
            "htmlUrl": request.build_absolute_uri(page),
        }
        xml.addQuickElement("outline", attrs=attributes)
    xml.endElement("body")
    xml.endElement("opml")
    xml.endDocument()
    return response
