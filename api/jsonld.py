"""schema.org JSON-LD for the catalogue: the API's detail endpoints and the public pages.

Built from the API's own payloads (`resource_row`, the collection detail), so the JSON-LD
says no more than the JSON does: published items only, and a broken item carries no `url`,
since a learner must never be sent to a dead link presented as live.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from rest_framework.renderers import BaseRenderer
from rest_framework.settings import api_settings
from rest_framework.utils.encoders import JSONEncoder

from curation.catalog.selectors import TopicGraph, topic_graph

SCHEMA_CONTEXT = "https://schema.org"
# Every item is a LearningResource (the type that carries competencyRequired); a course, a
# video or a book is also typed as what it is, as schema.org's own examples do.
TYPE_BY_KIND = {"course": "Course", "video": "VideoObject", "book": "Book"}
LEVEL_NAMES = {"beginner": "Beginner", "intermediate": "Intermediate", "advanced": "Advanced"}
JSONLD_MEDIA_TYPE = "application/ld+json"
# The address of a resource's own page, for a row (the public site gives items an @id).
PageUrl = Callable[[Mapping[str, Any]], str]


def iso_duration(minutes: int | None) -> str | None:
    """ISO 8601 duration of a whole number of minutes: 90 -> "PT1H30M"; None when unknown."""
    if minutes is None:
        return None
    hours, rest = divmod(int(minutes), 60)
    if hours and rest:
        return f"PT{hours}H{rest}M"
    return f"PT{hours}H" if hours else f"PT{rest}M"


class TopicNames:
    """Topic names and the names of their prerequisites, by slug, from one topic graph."""

    def __init__(self, graph: TopicGraph) -> None:
        self.graph = graph
        self.ids = {row["slug"]: pk for pk, row in graph.rows.items()}

    def names(self, slugs: Iterable[str]) -> list[str]:
        return [self.graph.rows[self.ids[s]]["name"] for s in slugs if s in self.ids]

    def prerequisite_names(self, slugs: Iterable[str]) -> list[str]:
        """Direct prerequisites of these topics that are not among them, by name, sorted."""
        own = {self.ids[s] for s in slugs if s in self.ids}
        needed = {p for pk in own for p in self.graph.prerequisites.get(pk, ()) if p not in own}
        return sorted(self.graph.rows[pk]["name"] for pk in needed)


def resource_node(row: Mapping[str, Any], topics: TopicNames, *, page_url: str = "") -> dict:
    """One resource (an API `resource_row`) as a schema.org LearningResource."""
    kind_type = TYPE_BY_KIND.get(row["kind"])
    node: dict[str, Any] = {
        "@type": ["LearningResource", kind_type] if kind_type else "LearningResource",
        "name": row["title"],
    }
    if page_url:
        node["@id"] = page_url
    optional = {
        "description": row.get("curator_note") or row.get("description"),
        # The learner's link: the new address of a moved link, none for a broken one.
        "url": row.get("link"),
        "educationalLevel": LEVEL_NAMES.get(row["difficulty"]),
        "timeRequired": iso_duration(row.get("duration_minutes")),
        "inLanguage": row.get("language") or None,
        "teaches": topics.names(row.get("topics", [])) or None,
        "competencyRequired": topics.prerequisite_names(row.get("topics", [])) or None,
    }
    node.update({key: value for key, value in optional.items() if value is not None})
    node["isAccessibleForFree"] = row["cost"] == "free"
    if row.get("author"):
        node["author"] = {"@type": "Person", "name": row["author"]}
    return node


def item_list(
    name: str, rows: Iterable[Mapping[str, Any]], topics: TopicNames, *, url: str = "",
    description: str = "", page_url_for: PageUrl | None = None,
) -> dict[str, Any]:  # fmt: skip
    """An ordered schema.org ItemList of resources (API rows), positions from 1."""
    elements = []
    for position, row in enumerate(rows, start=1):
        item_url = page_url_for(row) if page_url_for else ""
        node = resource_node(row, topics, page_url=item_url)
        elements.append({"@type": "ListItem", "position": position, "item": node})
    document: dict[str, Any] = {
        "@context": SCHEMA_CONTEXT,
        "@type": "ItemList",
        "name": name,
        "itemListOrder": "https://schema.org/ItemListOrderAscending",
        "numberOfItems": len(elements),
        "itemListElement": elements,
    }
    if url:
        document["url"] = url
    if description:
        document["description"] = description
    return document


def collection_document(
    payload: Mapping[str, Any],
    topics: TopicNames,
    *,
    url: str = "",
    page_url_for: PageUrl | None = None,
) -> dict[str, Any]:
    """A collection detail payload as an ItemList of its items, in section order."""
    rows = [item["resource"] for section in payload["sections"] for item in section["items"]]
    return item_list(
        payload["title"], rows, topics, url=url, description=payload.get("intro") or "",
        page_url_for=page_url_for,
    )  # fmt: skip


def resource_document(payload: Mapping[str, Any], topics: TopicNames) -> dict[str, Any]:
    """A resource detail payload as a LearningResource with its own @context."""
    return {"@context": SCHEMA_CONTEXT, **resource_node(payload, topics)}


def script_text(document: Mapping[str, Any]) -> str:
    """The document as the body of a <script type="application/ld+json"> element.

    <, > and & are escaped as JSON escapes, so no text in the catalogue can close the
    script element (the same escaping as Django's json_script).
    """
    text = json.dumps(document, ensure_ascii=False, sort_keys=True, default=str)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class JsonLdRenderer(BaseRenderer):
    """`?format=jsonld` or `Accept: application/ld+json` on resource and collection details.

    An error payload (no "title") is rendered as the JSON it is.
    """

    media_type = JSONLD_MEDIA_TYPE
    format = "jsonld"
    charset = None  # JSON is UTF-8 by definition (RFC 8259)

    def render(self, data, accepted_media_type=None, renderer_context=None) -> bytes:
        if isinstance(data, Mapping) and "title" in data and "kind" in data:
            data = resource_document(data, TopicNames(topic_graph()))
        elif isinstance(data, Mapping) and "title" in data and "sections" in data:
            data = collection_document(data, TopicNames(topic_graph()))
        return json.dumps(data, ensure_ascii=False, cls=JSONEncoder).encode()


def asks_for_jsonld(request) -> bool:
    format_asked = request.query_params.get(api_settings.URL_FORMAT_OVERRIDE or "format")
    return format_asked == JsonLdRenderer.format or JSONLD_MEDIA_TYPE in request.headers.get(
        "Accept", ""
    )


class JsonLdDetailMixin:
    """Offers JSON-LD on a viewset's detail (`retrieve`) to a client that asks for it.

    Only then: every other answer, and the OpenAPI schema, stay plain JSON, with no `format`
    parameter for the schema's clients to send (an empty `?format=` would be accepted).
    """

    def get_renderers(self):
        renderers = super().get_renderers()
        request = getattr(self, "request", None)  # None while the schema is generated
        detail = getattr(self, "action", None) == "retrieve"
        if detail and request is not None and asks_for_jsonld(request):
            renderers.append(JsonLdRenderer())
        return renderers
