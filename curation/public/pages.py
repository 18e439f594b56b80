"""What each public page shows, read through the catalogue's selectors and shaped as the API
shapes it (`resource_row`), so a page never shows more than the API shows an anonymous client:
published only, and a broken link has no `link` to present.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from api.serializers import resource_row
from curation.archive.selectors import add_archived_copies
from curation.catalog import recommend, selectors
from curation.models import Collection, Difficulty

COLLECTION_FIELDS = ("id", "slug", "title", "intro", "author_name", "published_on", "updated_at")
HOME_COLLECTIONS = 24
SEARCH_RESULTS = 50
RECOMMENDATIONS_PER_LEVEL = 8
# What a learner reads next to each health state; the states are the API's.
HEALTH_LABELS = {
    "healthy": "Link checked: working",
    "moved": "Moved: linked at its new address",
    "suspect": "Recently failing: may be down for now",
    "broken": "Broken link: not linked",
    "unverifiable": "Could not be verified (the site blocks checkers)",
    "unknown": "Not checked yet",
}


def rows_with_topics(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """API rows (`resource_row`) for `.values(*RESOURCE_ROW_FIELDS)` rows, topics in one query."""
    topics = selectors.topic_slugs_for([row["id"] for row in rows])
    add_archived_copies(rows)
    return [resource_row(row, topics[row["id"]]) for row in rows]


def home() -> dict[str, Any]:
    collections = list(
        selectors.catalogue_collections().values(*COLLECTION_FIELDS, "item_count")[
            :HOME_COLLECTIONS
        ]
    )
    graph = selectors.topic_graph()
    counts = selectors.topic_resource_counts()
    topics = [
        {**graph.rows[pk], "depth": depth, "count": counts.get(pk, 0)}
        for pk, depth in graph.tree_order()
    ]
    featured = list(
        selectors.filter_by_health(selectors.catalogue_resources(), [])
        .filter(featured=True)
        .order_by("title", "id")
        .values(*selectors.RESOURCE_ROW_FIELDS)[:HOME_COLLECTIONS]
    )
    return {"collections": collections, "topics": topics, "featured": rows_with_topics(featured)}


@dataclass
class LevelPath:
    level: str
    name: str
    recommendations: list[dict[str, Any]]


def topic(slug: str) -> dict[str, Any] | None:
    """The topic page: the topic, its ancestors, subtopics, prerequisites, and for each level
    the recommender's list with its reasons; None for an unknown slug."""
    graph = selectors.topic_graph(with_details=True)
    row = graph.by_slug(slug)
    if row is None:
        return None
    pk = row["id"]
    paths = []
    for level in Difficulty:
        found = recommend.recommended_resources(
            topic_slug=slug, level=level, limit=RECOMMENDATIONS_PER_LEVEL
        )
        shaped = rows_with_topics([r.resource for r in found or []])
        items = [
            {"resource": resource, "reasons": r.reasons}
            for resource, r in zip(shaped, found or [], strict=True)
        ]
        paths.append(LevelPath(level.slug, level.label, items))
    return {
        "topic": row,
        "ancestors": [graph.rows[p] for p in graph.ancestors(pk)],
        "subtopics": [graph.rows[c] for c in graph._sorted(graph.children.get(pk, ()))],
        "prerequisites": [graph.rows[p] for p in graph._sorted(graph.prerequisites.get(pk, ()))],
        "required_by": [graph.rows[p] for p in graph._sorted(graph.required_by.get(pk, ()))],
        "paths": paths,
        "collections": list(
            selectors.collections_covering(graph.subtree(pk)).values(*COLLECTION_FIELDS)
        ),
    }


def collection(slug: str) -> dict[str, Any] | None:
    """A published collection with its sections and items in order (as the API's detail);
    None when there is no such published collection."""
    found = selectors.catalogue_collections().filter(slug=slug).values(*COLLECTION_FIELDS).first()
    if found is None:
        return None
    sections = selectors.collection_outline(Collection(pk=found["id"]))
    shaped = iter(rows_with_topics([i["resource"] for s in sections for i in s["items"]]))
    for section in sections:
        for item in section["items"]:
            item["resource"] = next(shaped)
    return {**found, "sections": sections}


def resource(pk: int) -> dict[str, Any] | None:
    """A published resource (broken ones too: the page says so) as the API's row."""
    found = selectors.resource_for_reader(pk)
    if found is None:
        return None
    row = {name: getattr(found, name) for name in selectors.RESOURCE_ROW_FIELDS}
    add_archived_copies([row])
    data = resource_row(row, sorted(t.slug for t in found.topics.all()))
    data["topic_rows"] = sorted(
        ({"slug": t.slug, "name": t.name} for t in found.topics.all()), key=lambda t: t["name"]
    )
    return data


def search(text: str) -> list[dict[str, Any]]:
    """Published resources matching the text, best first, never a broken one (as the API's
    `q` without `health`)."""
    if not text.strip():
        return []
    readable = selectors.filter_by_health(selectors.catalogue_resources(), [])
    rows = (
        selectors.search_resources(readable, text)
        .order_by("-search_rank", "id")
        .values(*selectors.RESOURCE_ROW_FIELDS)[:SEARCH_RESULTS]
    )
    return rows_with_topics(list(rows))


def newest(*, topic_slug: str | None = None, limit: int = 50) -> list[dict[str, Any]] | None:
    """The newest published resources (never a broken one), in the topic and its subtopics
    when one is named; None for an unknown topic."""
    readable = selectors.filter_by_health(selectors.catalogue_resources(), [])
    if topic_slug is not None:
        if not selectors.topic_subtree_ids_by_slug(topic_slug):
            return None
        readable = selectors.filter_by_topic(readable, topic_slug)
    rows = readable.order_by("-created_at", "-id").values(*selectors.RESOURCE_ROW_FIELDS)
    return rows_with_topics(list(rows[:limit]))


def topic_name(slug: str) -> str | None:
    row = selectors.topic_graph().by_slug(slug)
    return None if row is None else row["name"]


def collection_links() -> list[dict[str, Any]]:
    """Every published collection's slug, title and intro, by title (for the OPML list)."""
    return list(selectors.catalogue_collections().values("slug", "title", "intro"))
